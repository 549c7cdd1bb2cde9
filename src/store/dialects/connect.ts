import {
  CompiledQuery,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  sql,
  type DatabaseConnection,
  type SqliteDatabase,
} from 'kysely';
import type { PoolConnection } from 'mysql2';
import type pg from 'pg';
import { mysqlCapabilities, postgresCapabilities, sqliteCapabilities, type Capabilities } from './capabilities.js';
import { parseDatabaseUrl, redactUrl } from './database-url.js';
import type { Database } from '../tables.js';
import { withPreparedStatements } from './postgres-prepared-statements.js';
import { preparePrivateSqliteFile } from '../file-modes.js';
import { startSqliteCheckpointer } from './sqlite-checkpointer.js';
import { ImmediateSqliteDialect } from './sqlite-immediate.js';
import { withStatementCache } from './sqlite-statement-cache.js';

/** The little a store connection needs from a logger (pino's `Logger` fits). */
export type StoreLogger = { warn(details: object, message: string): void };

export type DatabaseOptions = {
  url: string;
  /** Connections kept open to PostgreSQL or MySQL; ignored for SQLite. */
  poolSize?: number | undefined;
  /** Longest one statement may run, in milliseconds; 0 = no limit. */
  statementTimeoutMs?: number | undefined;
  /** PostgreSQL: name statements so each connection prepares them once (default true). */
  preparedStatements?: boolean | undefined;
  /** Where errors of idle pooled connections go; they must never crash the process. */
  logger?: StoreLogger | undefined;
};
export type Connection = { db: Kysely<Database>; caps: Capabilities };

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const CONNECT_TIMEOUT_MS = 10_000;

const silentLogger: StoreLogger = { warn: () => undefined };

/** Opens the database named by the URL and reads the server version to fill the capabilities object. */
export async function connectDatabase(options: DatabaseOptions): Promise<Connection> {
  const target = parseDatabaseUrl(options.url);
  const settings = {
    poolSize: options.poolSize ?? 10,
    statementTimeoutMs: options.statementTimeoutMs ?? 30000,
    preparedStatements: options.preparedStatements ?? true,
    logger: options.logger ?? silentLogger,
  };
  if (target.dialect === 'sqlite') return connectSqlite(target.filename, settings.logger);
  const db =
    target.dialect === 'postgres'
      ? await postgresKysely(target.url, settings)
      : await mysqlKysely(target.url, settings);
  try {
    if (target.dialect === 'postgres') {
      const { rows } = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db);
      return { db, caps: postgresCapabilities(`PostgreSQL ${rows[0]?.v ?? '?'}`) };
    }
    const { rows } = await sql<{ v: string }>`select version() as v`.execute(db);
    const version = rows[0]?.v ?? '?';
    return { db, caps: mysqlCapabilities(/mariadb/i.test(version) ? version : `MySQL ${version}`) };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

type PoolSettings = { poolSize: number; statementTimeoutMs: number; preparedStatements: boolean; logger: StoreLogger };

// Each driver is loaded when its dialect is used: a parent no longer imports the two it does not use before it
// listens (pg and mysql2 took 200–300 ms each to import on the shared test machine; issue 11).
async function connectSqlite(filename: string, logger: StoreLogger): Promise<Connection> {
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  const inMemory = filename === ':memory:';
  if (!inMemory)
    for (const finding of preparePrivateSqliteFile(filename))
      logger.warn({ path: finding.path, mode: finding.mode }, finding.message);
  const database = new BetterSqlite3(filename);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 10000');
  database.pragma('synchronous = NORMAL');
  const version = (database.prepare('select sqlite_version() as v').get() as { v: string }).v;
  // A memory database has no WAL to checkpoint (and no file a second connection could open).
  const checkpointer = inMemory ? undefined : startSqliteCheckpointer({ database, filename, logger });
  const closing: SqliteDatabase = {
    close: () => {
      checkpointer?.stop();
      database.close();
    },
    prepare: (text) => database.prepare(text),
  };
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(closing) }) });
  return { db, caps: sqliteCapabilities(version) };
}

async function postgresKysely(url: string, settings: PoolSettings): Promise<Kysely<Database>> {
  const { default: pg } = await import('pg');
  // BIGINT millisecond columns, COUNT(*) (int8) and SUM() (numeric) come back as numbers, not strings.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID || oid === NUMERIC_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: types as pg.CustomTypesConfig,
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
  });
  // A client that loses its server (restart, failover, pg_terminate_backend) emits 'error' on itself, also while
  // Kysely has it checked out between two statements, when pg-pool has taken its own listener off: without one
  // Node crashes the process. The statement in flight fails (a 503 to its caller, src/store/dialects/transient-error.ts),
  // the client is no longer queryable, and the pool drops it on release and opens a new one on demand.
  pool.on('connect', (client) => {
    client.on('error', (error) =>
      settings.logger.warn(
        { err: error, database: redactUrl(url) },
        'PostgreSQL connection lost; the pool replaces it',
      ),
    );
  });
  // An idle client's error is also re-emitted on the pool; the client's own listener above has logged it.
  pool.on('error', () => undefined);
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: settings.preparedStatements ? withPreparedStatements(pool) : pool }),
  });
}

async function mysqlKysely(url: string, settings: PoolSettings): Promise<Kysely<Database>> {
  const { createPool } = await import('mysql2');
  const pool = createPool({
    uri: url,
    connectionLimit: settings.poolSize,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // BIGINT (times, COUNT) as numbers while they fit in a double; DECIMAL (what SUM returns) as numbers.
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    timezone: 'Z',
    charset: 'utf8mb4',
  });
  // mysql2 listens for only the first 'error' of a pooled connection; a second one would be unhandled.
  pool.on('connection', (connection: PoolConnection) => {
    connection.on('error', (error: Error) =>
      settings.logger.warn({ err: error, database: redactUrl(url) }, 'MySQL connection failed; the pool replaces it'),
    );
  });
  let warnedAboutTimeout = false;
  const prepareSession = async (connection: DatabaseConnection): Promise<void> => {
    // READ COMMITTED, as on PostgreSQL: the store's guarded UPDATEs and SKIP LOCKED claims are written for it, and
    // InnoDB's default REPEATABLE READ takes gap locks on the claim index that deadlock concurrent claimers.
    await connection.executeQuery(CompiledQuery.raw('set session transaction isolation level read committed'));
    if (settings.statementTimeoutMs <= 0) return;
    const { rows } = await connection.executeQuery<{ v: string }>(CompiledQuery.raw('select version() as v'));
    const statement = mysqlStatementTimeoutSql(rows[0]?.v ?? '', settings.statementTimeoutMs);
    try {
      await connection.executeQuery(CompiledQuery.raw(statement));
    } catch (error) {
      // A server variant without the variable (old MySQL, some managed services) runs without a limit, loudly.
      if (!warnedAboutTimeout)
        settings.logger.warn(
          { err: error, statement },
          'statement timeout not supported by this MySQL server; running without one',
        );
      warnedAboutTimeout = true;
    }
  };
  return new Kysely<Database>({
    dialect: new MysqlDialect({ pool, onCreateConnection: prepareSession }),
  });
}

/**
 * MariaDB limits every statement with `max_statement_time` (seconds, fractional); MySQL only has
 * `max_execution_time` (milliseconds) and it applies to read-only SELECTs. Each server rejects the other's name.
 */
export function mysqlStatementTimeoutSql(serverVersion: string, timeoutMs: number): string {
  const ms = Math.max(0, Math.trunc(timeoutMs));
  return /mariadb/i.test(serverVersion)
    ? `set session max_statement_time = ${ms / 1000}`
    : `set session max_execution_time = ${ms}`;
}
