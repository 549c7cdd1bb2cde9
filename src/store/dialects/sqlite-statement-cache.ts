import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; `IN (?, ?, …)` lists of many lengths would otherwise grow the cache forever. */
const MAX_CACHED_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every statement on every call; with better-sqlite3 preparing costs about as
 * much as running a small indexed query (the claim-cycle benchmark spent ~10 % of the parent's CPU in
 * `prepare`). Statements are reusable because better-sqlite3 is synchronous: one finishes before the next starts.
 * The exception is `iterate()` (Kysely's `.stream()`), which keeps its statement busy; the store never streams.
 */
export function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) return cached;
      const statement = database.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
      cache.set(sql, statement);
      return statement;
    },
  };
}
