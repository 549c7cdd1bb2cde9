/**
 * Every difference between SQLite, PostgreSQL and MySQL/MariaDB that the store cares about, in one object.
 * Store modules branch on these flags (or call the helpers next to this file that do), never on the dialect name;
 * `dialect` is only reported (`cascade db check`).
 */
export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export type Capabilities = {
  readonly dialect: DialectName;
  /** `SELECT … FOR UPDATE SKIP LOCKED` is available (PostgreSQL, MySQL 8, MariaDB ≥ 10.6). */
  readonly skipLocked: boolean;
  /** Row locks exist at all; SQLite serialises writers instead. */
  readonly rowLocks: boolean;
  /** `INSERT/UPDATE … RETURNING` works. */
  readonly returning: boolean;
  /**
   * Data-modifying statements inside `WITH` (PostgreSQL): the hot moves run with all their bookkeeping as one
   * statement, so a claim, a start or a completion costs one round trip instead of a transaction of several.
   */
  readonly writableCtes: boolean;
  /**
   * `LEFT JOIN LATERAL` (PostgreSQL): a completion reads its feeds' rhythm and each feed's newest articles in one
   * statement (src/store/feed-rhythm.ts); elsewhere one statement for the feeds and one per feed.
   */
  readonly lateralJoins: boolean;
  /**
   * The hot moves (claim of a node's own work, start, complete) run as the single statements of
   * store/allocations/single-statement.ts. Needs `writableCtes`; the test environment turns it off with
   * `CASCADE_TEST_PG_SINGLE_STATEMENTS=off`, so that the PostgreSQL suites also run the general path.
   */
  readonly singleStatements: boolean;
  /** Column type for an auto-incrementing integer primary key. */
  readonly autoIncrementType: 'integer' | 'serial' | 'bigint';
  /** Column type for long text (article bodies). */
  readonly longTextType: 'text' | 'longtext';
  /** Largest number of bound parameters one statement may carry, with headroom. */
  readonly maxParameters: number;
  /** How a parent learns that another process made work claimable. */
  readonly crossProcessWake: 'listen-notify' | 'poll';
  /**
   * How an insert meets a row whose key is already stored: `ON CONFLICT … DO NOTHING / DO UPDATE` (SQLite,
   * PostgreSQL) or `INSERT IGNORE` / `ON DUPLICATE KEY UPDATE` (MySQL). Applied by dialects/upsert.ts.
   */
  readonly upsertSyntax: 'on-conflict' | 'on-duplicate-key';
  /**
   * What every CREATE TABLE ends with, or null. MySQL tables take the server's default character set (often latin1)
   * and a case-insensitive collation; utf8mb4 with a binary collation stores Chinese names and compares ids exactly
   * as SQLite and PostgreSQL do. Applied by dialects/ddl.ts.
   */
  readonly tableOptions: string | null;
  /** `DROP INDEX` names the index's table (MySQL); SQLite and PostgreSQL reject that. */
  readonly dropIndexNamesTable: boolean;
  /**
   * How a varchar column is widened: `ALTER COLUMN … TYPE` (PostgreSQL), `MODIFY COLUMN` with the whole column
   * definition (MySQL), or not at all because lengths are not enforced (SQLite).
   */
  readonly columnWidening: 'alter-column' | 'modify-column' | 'not-enforced';
  /**
   * How a table's primary key is replaced: by constraint name in place (PostgreSQL), with `DROP PRIMARY KEY`
   * (MySQL), or by copying into a table with the new key (SQLite, which cannot change a key in place).
   */
  readonly primaryKeyChange: 'constraint' | 'drop-primary-key' | 'rebuild-table';
  /** Human-readable server version, for `cascade db check`. */
  readonly serverVersion: string;
};

const MYSQL_TABLE_OPTIONS = 'default character set utf8mb4 collate utf8mb4_bin';

export function sqliteCapabilities(version: string): Capabilities {
  return {
    dialect: 'sqlite',
    skipLocked: false,
    rowLocks: false,
    returning: true,
    writableCtes: false,
    lateralJoins: false,
    singleStatements: false,
    autoIncrementType: 'integer',
    longTextType: 'text',
    maxParameters: 30000,
    crossProcessWake: 'poll',
    upsertSyntax: 'on-conflict',
    tableOptions: null,
    dropIndexNamesTable: false,
    columnWidening: 'not-enforced',
    primaryKeyChange: 'rebuild-table',
    serverVersion: `SQLite ${version}`,
  };
}

export function postgresCapabilities(version: string, env: NodeJS.ProcessEnv = process.env): Capabilities {
  return {
    dialect: 'postgres',
    skipLocked: true,
    rowLocks: true,
    returning: true,
    writableCtes: true,
    lateralJoins: true,
    singleStatements: singleStatementsWanted(env),
    autoIncrementType: 'serial',
    longTextType: 'text',
    maxParameters: 60000,
    crossProcessWake: 'listen-notify',
    upsertSyntax: 'on-conflict',
    tableOptions: null,
    dropIndexNamesTable: false,
    columnWidening: 'alter-column',
    primaryKeyChange: 'constraint',
    serverVersion: version,
  };
}

export function mysqlCapabilities(version: string): Capabilities {
  return {
    dialect: 'mysql',
    skipLocked: mysqlHasSkipLocked(version),
    rowLocks: true,
    returning: false,
    writableCtes: false,
    lateralJoins: false,
    singleStatements: false,
    autoIncrementType: 'bigint',
    longTextType: 'longtext',
    maxParameters: 60000,
    crossProcessWake: 'poll',
    upsertSyntax: 'on-duplicate-key',
    tableOptions: MYSQL_TABLE_OPTIONS,
    dropIndexNamesTable: true,
    columnWidening: 'modify-column',
    primaryKeyChange: 'drop-primary-key',
    serverVersion: version,
  };
}

/** MySQL ≥ 8.0 and MariaDB ≥ 10.6 understand SKIP LOCKED. */
function mysqlHasSkipLocked(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (/mariadb/i.test(version)) return major > 10 || (major === 10 && minor >= 6);
  return major >= 8;
}

/**
 * A test switch, not a setting: CI runs the PostgreSQL store and dispatch suites once more with the single
 * statements off, so the general path they stand in for is exercised on PostgreSQL too.
 */
export const SINGLE_STATEMENTS_ENV = 'CASCADE_TEST_PG_SINGLE_STATEMENTS';

function singleStatementsWanted(env: NodeJS.ProcessEnv): boolean {
  return env[SINGLE_STATEMENTS_ENV] !== 'off';
}
