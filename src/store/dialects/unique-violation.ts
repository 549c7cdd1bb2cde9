/** True when a database error is a primary-key or unique-constraint violation, on any of the three dialects. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return (
    e.code === '23505' || // PostgreSQL unique_violation
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062 || // MySQL / MariaDB
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}
