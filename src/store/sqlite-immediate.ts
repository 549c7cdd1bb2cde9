import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type QueryResult, type SqliteDialectConfig } from 'kysely';

/**
 * Longest stretch of back-to-back statements before the connection lets the event loop run. better-sqlite3 is
 * synchronous and Kysely awaits only settled promises between statements, so a long transaction (a dispatch of
 * thousands of feeds, a sweep of many expired leases) used to hold the loop for its whole duration: `/healthz`
 * took 394–676 ms on SQLite against 12–108 ms on PostgreSQL (issue 11, defect 6).
 */
const YIELD_AFTER_MS = 10;

/**
 * Runs statements and, once they have run for YIELD_AFTER_MS without the event loop turning, waits one
 * `setImmediate` so timers and network I/O (probes, other requests' parsing) get their turn. The transaction keeps
 * the only connection meanwhile; other statements queue behind it as before.
 */
class YieldingConnection implements DatabaseConnection {
  /** When the current stretch of statements began; cleared by the loop's next turn. */
  static #sliceStartedAt: number | undefined;

  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(compiledQuery);
    await YieldingConnection.#yieldIfLong();
    return result;
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }

  static async #yieldIfLong(): Promise<void> {
    const now = performance.now();
    if (this.#sliceStartedAt === undefined) {
      this.#sliceStartedAt = now;
      setImmediate(() => (this.#sliceStartedAt = undefined));
      return;
    }
    if (now - this.#sliceStartedAt < YIELD_AFTER_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
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
