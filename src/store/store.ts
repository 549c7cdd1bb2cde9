import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Capabilities } from './capabilities.js';
import { connectDatabase, type StoreLogger } from './connect.js';
import { migrateToLatest } from './migrate.js';
import { NodesStore } from './nodes.js';
import { SettingsStore } from './settings.js';
import type { Database } from './tables.js';
import { UsersStore } from './users.js';

/** Every store module over one connection; the rest of the program reaches SQL only through this object. */
export type Store = {
  readonly db: Kysely<Database>;
  readonly caps: Capabilities;
  readonly nodes: NodesStore;
  readonly users: UsersStore;
  readonly settings: SettingsStore;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
};

export async function openStore(config: Pick<Config, 'database' | 'dispatch'>, logger?: StoreLogger): Promise<Store> {
  const { db, caps } = await connectDatabase({
    url: config.database.url,
    poolSize: config.database.pool_size,
    statementTimeoutMs: config.database.statement_timeout_ms,
    logger,
  });
  let closed = false;
  return {
    db,
    caps,
    nodes: new NodesStore(db, config.dispatch.offline_after_seconds),
    users: new UsersStore(db),
    settings: new SettingsStore(db),
    migrate: () => migrateToLatest(db, caps),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
