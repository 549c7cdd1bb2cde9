/**
 * Errors that mean "the database is busy, the same request may succeed if repeated": deadlocks, serialization
 * failures, lock-wait timeouts, a locked SQLite file, a cancelled statement, a prepared statement whose table
 * changed under it (the next call runs unprepared: src/store/dialects/postgres-prepared-statements.ts). The HTTP layer answers them with 503
 * and Retry-After instead of a 500, and children retry 503s. The statement surely did not commit, so the store may
 * also repeat it itself (the dispatcher does).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return (
    e.code === '40P01' ||
    e.code === '40001' ||
    e.code === '55P03' ||
    e.code === '57014' || // PostgreSQL
    (e.code === '0A000' &&
      typeof e.message === 'string' &&
      e.message.includes('cached plan must not change result type')) ||
    e.errno === 1213 ||
    e.errno === 1205 ||
    e.errno === 1969 ||
    e.errno === 3024 || // MySQL / MariaDB
    e.code === 'SQLITE_BUSY' ||
    e.code === 'SQLITE_LOCKED'
  );
}

/** PostgreSQL SQLSTATEs of a server going away: admin/crash shutdown, starting up, too many connections. */
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
/** MySQL/MariaDB: server shutdown, too many connections, connection killed, server gone away, lost during query. */
const MYSQL_UNAVAILABLE_ERRNOS = new Set([1053, 1040, 1927, 2006, 2013]);
const MYSQL_UNAVAILABLE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** node-postgres and mysql2 report some losses with a message only. */
const LOST_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  "Can't add new command when connection is in closed state",
];

/**
 * Errors that mean "the database cannot be reached right now": the connection was lost (server restart, a killed
 * backend, a cut network) or could not be opened. The request in flight fails with 503 and the child retries it;
 * the pools open new connections on demand, so the parent serves again as soon as the database is back. Unlike a
 * busy error, a statement that was in flight may have committed, so the store never repeats it on its own.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { code, errno, message } = e as { code?: unknown; errno?: unknown; message?: unknown };
    if (
      typeof code === 'string' &&
      (POSTGRES_UNAVAILABLE.has(code) ||
        code.startsWith('08') ||
        SOCKET_CODES.has(code) ||
        MYSQL_UNAVAILABLE_CODES.has(code))
    )
      return true;
    if (typeof errno === 'number' && MYSQL_UNAVAILABLE_ERRNOS.has(errno)) return true;
    if (typeof message === 'string' && LOST_MESSAGES.some((text) => message.startsWith(text))) return true;
  }
  return false;
}
