import { sql, type Kysely } from 'kysely';
import { ActivityStore } from './activity.js';
import { AllocationsStore } from './allocations/allocations-store.js';
import { ArticlesStore } from './articles.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_REFRESH_BOUNDS, type RefreshBounds } from '../domain/feed-rhythm.js';
import type { Capabilities } from './dialects/capabilities.js';
import { connectDatabase, type StoreLogger } from './dialects/connect.js';
import { createCrossProcessWake, type CrossProcessWake } from './wake/cross-process-wake.js';
import { DeliveriesStore } from './deliveries/deliveries-store.js';
import { FeedsStore } from './feeds.js';
import { HostsStore } from './hosts.js';
import { MessageTasksStore } from './message-tasks.js';
import { DispatchSources } from './dispatch-sources.js';
import { politenessRules } from '../domain/host-politeness.js';
import { migrateToLatest, migrationState } from './migrate.js';
import { NodesStore } from './nodes.js';
import { SecretBox } from '../auth/secret-box.js';
import { randomToken } from '../auth/secrets.js';
import { SettingsStore } from './settings.js';
import { SyncLogsStore } from './sync-logs.js';
import type { Database } from './tables.js';
import { UsersStore } from './users.js';

/** Every store module over one connection; the rest of the program reaches SQL only through this object. */
export type Store = {
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
  /** Per-host politeness: fleet-wide pauses and the hosts' state (docs/politeness.md). */
  readonly hosts: HostsStore;
  /** The console's read-only questions about recent activity. */
  readonly activity: ActivityStore;
  readonly wake: CrossProcessWake;
  readonly dispatchSources: DispatchSources;
  migrate(): Promise<string[]>;
  /** Names of the migrations this build knows and the database has not applied yet, in the order they apply. */
  pendingMigrations(): Promise<string[]>;
  /** Resolves when the database answers a trivial query; rejects with the driver's error otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export async function openStore(
  config: Pick<Config, 'database' | 'dispatch' | 'delivery'> &
    Partial<Pick<Config, 'secrets' | 'politeness' | 'refresh'>>,
  logger?: StoreLogger,
): Promise<Store> {
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
  const livenessRules = {
    offlineAfterSeconds: config.dispatch.offline_after_seconds,
    suspectAfterBeats: config.dispatch.suspect_after_beats,
  };
  const leaseSettings = {
    leaseSeconds: config.dispatch.lease_seconds,
    maxAttempts: config.dispatch.max_attempts,
    retryBackoffSeconds: config.dispatch.retry_backoff_seconds,
    retryBackoffMaxSeconds: config.dispatch.retry_backoff_max_seconds,
    refresh: refreshBounds(config.refresh),
  };
  const settings = new SettingsStore(db);
  const politeness = politenessRules(config.politeness);
  let secretBox: Promise<SecretBox> | undefined;
  const openSecretBox = () => (secretBox ??= secretsKey(config, settings).then((key) => new SecretBox(key)));
  const store: Store = {
    caps,
    nodes: new NodesStore(db, livenessRules, openSecretBox),
    users: new UsersStore(db, caps.rowLocks),
    settings,
    feeds,
    tasks: new MessageTasksStore(db, feeds, openSecretBox),
    syncLogs: new SyncLogsStore(db, caps),
    // Without `politeness` (tools, most tests) claims weigh no hosts; the parent passes the loaded config.
    allocations: new AllocationsStore(db, caps, leaseSettings, wake, politeness),
    hosts: new HostsStore(db, caps, politeness),
    articles: new ArticlesStore(db, caps, {
      batchSeconds: config.delivery.batch_seconds,
      maxArticles: config.delivery.max_articles,
    }),
    deliveries: new DeliveriesStore(db, caps),
    activity: new ActivityStore(db, livenessRules),
    wake,
    dispatchSources: new DispatchSources(db),
    migrate: () => migrateToLatest(db, caps),
    pendingMigrations: async () =>
      (await migrationState(db, caps)).filter((m) => m.executedAt === undefined).map((m) => m.name),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await wake.close();
      await db.destroy();
    },
  };
  databases.set(store, db);
  return store;
}

const databases = new WeakMap<Store, Kysely<Database>>();

/**
 * The store's Kysely handle, for tests that seed or inspect rows directly. Program code asks the store's methods
 * instead; eslint refuses this import outside src/store/.
 */
export function databaseOf(store: Store): Kysely<Database> {
  const db = databases.get(store);
  if (!db) throw new Error('databaseOf: not a store opened by openStore()');
  return db;
}

export const SECRETS_KEY_SETTING = 'secrets_key';

/** `refresh.*` as the rhythm rule takes it (docs/refresh.md); the defaults for a config without the section. */
export function refreshBounds(refresh: Config['refresh'] | undefined): RefreshBounds {
  return refresh ? { minSeconds: refresh.min_interval, maxSeconds: refresh.max_interval } : DEFAULT_REFRESH_BOUNDS;
}

/**
 * The key that seals node secrets at rest (docs/security.md): `secrets.key` from the config when set (kept out of
 * the database, so a dump alone does not open them), else one generated once and kept in the store's settings.
 */
export async function secretsKey(config: Partial<Pick<Config, 'secrets'>>, settings: SettingsStore): Promise<string> {
  return config.secrets?.key ?? (await settings.getOrCreate(SECRETS_KEY_SETTING, () => randomToken(64)));
}
