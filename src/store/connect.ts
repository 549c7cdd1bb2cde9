import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { mysqlCapabilities, postgresCapabilities, sqliteCapabilities, type Capabilities } from './capabilities.js';
import { parseDatabaseUrl } from './database-url.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import type { Database } from './tables.js';

export type DatabaseOptions = { url: string; poolSize?: number; statementTimeoutMs?: number };
export type Connection = { db: Kysely<Database>; caps: Capabilities };

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Opens the database named by the URL and reads the server version to fill the capabilities object. */
export async function connectDatabase(options: DatabaseOptions): Promise<Connection> {
  const target = parseDatabaseUrl(options.url);
  const poolSize = options.poolSize ?? 10;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30000;
  if (target.dialect === 'sqlite') {
    if (target.filename !== ':memory:') mkdirSync(dirname(target.filename), { recursive: true });
    const database = new BetterSqlite3(target.filename);
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 10000');
    database.pragma('synchronous = NORMAL');
    const version = (database.prepare('select sqlite_version() as v').get() as { v: string }).v;
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    return { db, caps: sqliteCapabilities(version) };
  }
  if (target.dialect === 'postgres') {
    // BIGINT millisecond columns and COUNT(*) come back as numbers, not strings.
    const types = {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID || oid === NUMERIC_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
    };
    const pool = new pg.Pool({
      connectionString: target.url,
      max: poolSize,
      types: types as pg.CustomTypesConfig,
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const { rows } = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db);
      return { db, caps: postgresCapabilities(`PostgreSQL ${rows[0]?.v ?? '?'}`) };
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }
  const pool = createPool({
    uri: target.url,
    connectionLimit: poolSize,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    timezone: 'Z',
    charset: 'utf8mb4',
  });
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({
      pool,
      ...(statementTimeoutMs > 0
        ? { onCreateConnection: async (connection) => void (await connection.executeQuery(sql`set session max_statement_time = ${statementTimeoutMs / 1000}`.compile(db))) }
        : {}),
    }),
  });
  try {
    const { rows } = await sql<{ v: string }>`select version() as v`.execute(db);
    const version = rows[0]?.v ?? '?';
    return { db, caps: mysqlCapabilities(/mariadb/i.test(version) ? version : `MySQL ${version}`) };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}
