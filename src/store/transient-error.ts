/**
 * Errors that mean "the database is busy, the same request may succeed if repeated": deadlocks, serialization
 * failures, lock-wait timeouts, a locked SQLite file, a cancelled statement, a prepared statement whose table
 * changed under it (the next call runs unprepared: src/store/postgres-prepared-statements.ts). The HTTP layer answers them with 503
 * and Retry-After instead of a 500, and children retry 503s.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return (
    e.code === '40P01' || e.code === '40001' || e.code === '55P03' || e.code === '57014' || // PostgreSQL
    (e.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type')) ||
    e.errno === 1213 || e.errno === 1205 || e.errno === 1969 || e.errno === 3024 || // MySQL / MariaDB
    e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED'
  );
}
