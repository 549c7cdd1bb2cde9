import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';

/**
 * Longest a transaction runs its statements back to back before it lets the event loop turn. better-sqlite3 is
 * synchronous and Kysely awaits only settled promises between statements, so a long transaction (a dispatch of
 * thousands of feeds, a sweep of many expired leases) used to hold the loop for its whole duration: `/healthz`
 * took 394–676 ms on SQLite against 12–108 ms on PostgreSQL (issue 11, defect 6).
 */
const YIELD_AFTER_MS = 10;

/**
 * The single SQLite connection, as the driver hands it out: inside a transaction that has run for YIELD_AFTER_MS
 * since it began or last yielded, it waits one `setImmediate` before the next statement, so timers and network I/O
 * (probes, other requests' parsing) get their turn; the transaction keeps the connection meanwhile, and other
 * statements queue behind it as before. Only long transactions yield: a short one (a claim, a report) never pays
 * for a loop turn while it holds the only connection, and a single statement cannot be split anyway.
 */
class YieldingConnection implements DatabaseConnection {
  /** When the open transaction began or last yielded; undefined outside a transaction. */
  sliceStartedAt: number | undefined;

  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (this.sliceStartedAt !== undefined && performance.now() - this.sliceStartedAt >= YIELD_AFTER_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.sliceStartedAt = performance.now();
    }
    return this.inner.executeQuery<R>(compiledQuery);
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

/**
 * SQLite transactions that take the write lock up front (`BEGIN IMMEDIATE`). A plain `BEGIN` reads first and
 * upgrades to a writer later; when another process (a second parent, `cascade dispatch`) writes meanwhile, the
 * upgrade fails at once with SQLITE_BUSY instead of waiting for busy_timeout. Every Cascade transaction writes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  #connection: YieldingConnection | undefined;

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    if (this.#connection?.inner !== inner) this.#connection = new YieldingConnection(inner);
    return this.#connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    if (connection instanceof YieldingConnection) connection.sliceStartedAt = performance.now();
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof YieldingConnection) connection.sliceStartedAt = undefined;
    await super.commitTransaction(connection);
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof YieldingConnection) connection.sliceStartedAt = undefined;
    await super.rollbackTransaction(connection);
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
