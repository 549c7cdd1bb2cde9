/**
 * Every difference between SQLite, PostgreSQL and MySQL/MariaDB that the store cares about, in one object.
 * Store modules branch on these flags, never on the dialect name.
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
  /** Column type for an auto-incrementing integer primary key. */
  readonly autoIncrementType: 'integer' | 'serial' | 'bigint';
  /** Column type for long text (article bodies). */
  readonly longTextType: 'text' | 'longtext';
  /** Largest number of bound parameters one statement may carry, with headroom. */
  readonly maxParameters: number;
  /** How a parent learns that another process made work claimable. */
  readonly crossProcessWake: 'listen-notify' | 'poll';
  /** Human-readable server version, for `cascade db check`. */
  readonly serverVersion: string;
};

export function sqliteCapabilities(version: string): Capabilities {
  return {
    dialect: 'sqlite',
    skipLocked: false,
    rowLocks: false,
    returning: true,
    writableCtes: false,
    autoIncrementType: 'integer',
    longTextType: 'text',
    maxParameters: 30000,
    crossProcessWake: 'poll',
    serverVersion: `SQLite ${version}`,
  };
}

export function postgresCapabilities(version: string): Capabilities {
  return {
    dialect: 'postgres',
    skipLocked: true,
    rowLocks: true,
    returning: true,
    writableCtes: true,
    autoIncrementType: 'serial',
    longTextType: 'text',
    maxParameters: 60000,
    crossProcessWake: 'listen-notify',
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
    autoIncrementType: 'bigint',
    longTextType: 'longtext',
    maxParameters: 60000,
    crossProcessWake: 'poll',
    serverVersion: version,
  };
}

/** MySQL ≥ 8.0 and MariaDB ≥ 10.6 understand SKIP LOCKED. */
export function mysqlHasSkipLocked(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (/mariadb/i.test(version)) return major > 10 || (major === 10 && minor >= 6);
  return major >= 8;
}
