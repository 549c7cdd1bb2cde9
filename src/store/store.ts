import type { Kysely } from 'kysely';
import { ActivityStore } from './activity.js';
import { AllocationsStore } from './allocations/allocations-store.js';
import { ArticlesStore } from './articles.js';
import type { Config } from '../config/schema.js';
import type { Capabilities } from './dialects/capabilities.js';
import { connectDatabase, type StoreLogger } from './dialects/connect.js';
import { createCrossProcessWake, type CrossProcessWake } from './wake/cross-process-wake.js';
import { DeliveriesStore } from './deliveries/deliveries-store.js';
import { FeedsStore } from './feeds.js';
import { MessageTasksStore } from './message-tasks.js';
import { DispatchSources } from './dispatch-sources.js';
import { migrateToLatest } from './migrate.js';
import { NodesStore } from './nodes.js';
import { SecretBox } from '../auth/secret-box.js';
import { randomToken } from '../auth/secrets.js';
import { SettingsStore } from './settings.js';
import { SyncLogsStore } from './sync-logs.js';
import type { Database } from './tables.js';
import { UsersStore } from './users.js';

/** Every store module over one connection; the rest of the program reaches SQL only through this object. */
export type Store = {
  readonly db: Kysely<Database>;
  readonly caps: Capabilities;
  readonly nodes: NodesStore;
  readonly users: UsersStore;
  readonly settings: SettingsStore;
  readonly feeds: FeedsStore;
  readonly tasks: MessageTasksStore;
  readonly syncLogs: SyncLogsStore;
  readonly allocations: AllocationsStore;
  readonly articles: ArticlesStore;
  readonly deliveries: DeliveriesStore;
  /** The console's read-only questions about recent activity. */
  readonly activity: ActivityStore;
  readonly wake: CrossProcessWake;
  readonly dispatchSources: DispatchSources;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
};

export async function openStore(config: Pick<Config, 'database' | 'dispatch' | 'delivery'> & Partial<Pick<Config, 'secrets'>>, logger?: StoreLogger): Promise<Store> {
  const { db, caps } = await connectDatabase({
    url: config.database.url,
    poolSize: config.database.pool_size,
    statementTimeoutMs: config.database.statement_timeout_ms,
    preparedStatements: config.database.prepared_statements,
    logger,
  });
  let closed = false;
  const feeds = new FeedsStore(db, caps.maxParameters);
  // Reaches waiters in every parent on this database, not just this process (docs/scaling-out.md).
  const wake = createCrossProcessWake(db, caps, config.database.url, logger ?? { warn: () => undefined });
  const livenessRules = { offlineAfterSeconds: config.dispatch.offline_after_seconds, suspectAfterBeats: config.dispatch.suspect_after_beats };
  const leaseSettings = {
    leaseSeconds: config.dispatch.lease_seconds,
    maxAttempts: config.dispatch.max_attempts,
    retryBackoffSeconds: config.dispatch.retry_backoff_seconds,
    retryBackoffMaxSeconds: config.dispatch.retry_backoff_max_seconds,
  };
  const settings = new SettingsStore(db);
  let secretBox: Promise<SecretBox> | undefined;
  const openSecretBox = () => (secretBox ??= secretsKey(config, settings).then((key) => new SecretBox(key)));
  return {
    db,
    caps,
    nodes: new NodesStore(db, livenessRules, openSecretBox),
    users: new UsersStore(db, caps.rowLocks),
    settings,
    feeds,
    tasks: new MessageTasksStore(db, feeds, openSecretBox),
    syncLogs: new SyncLogsStore(db, caps),
    allocations: new AllocationsStore(db, caps, leaseSettings, wake),
    articles: new ArticlesStore(db, caps, { batchSeconds: config.delivery.batch_seconds, maxArticles: config.delivery.max_articles }),
    deliveries: new DeliveriesStore(db, caps),
    activity: new ActivityStore(db, livenessRules),
    wake,
    dispatchSources: new DispatchSources(db),
    migrate: () => migrateToLatest(db, caps),
    async close() {
      if (closed) return;
      closed = true;
      await wake.close();
      await db.destroy();
    },
  };
}

export const SECRETS_KEY_SETTING = 'secrets_key';

/**
 * The key that seals node secrets at rest (docs/security.md): `secrets.key` from the config when set (kept out of
 * the database, so a dump alone does not open them), else one generated once and kept in the store's settings.
 */
export async function secretsKey(config: Partial<Pick<Config, 'secrets'>>, settings: SettingsStore): Promise<string> {
  return config.secrets?.key ?? (await settings.getOrCreate(SECRETS_KEY_SETTING, () => randomToken(64)));
}
