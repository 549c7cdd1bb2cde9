import { hashPassword } from '../../src/auth/secrets.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Dispatcher, type DispatchSummary } from '../../src/dispatch/dispatcher.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { chunk } from '../../src/store/time.js';
import { rowsPerInsert } from '../../src/store/allocations/shared.js';

export type NodeCredentials = { id: string; name: string; api_key: string; api_secret: string };

export const BENCH_ADMIN = { username: 'bench-admin', password: 'bench-admin-password' };

/**
 * The parent's configuration for a database URL, defaults everywhere else (what the parent process uses too), but
 * without per-host politeness: the seeded feeds all sit on one unreachable host (127.0.0.1:9) and are never
 * fetched, so politeness would hand out one allocation a second and the scenarios would measure its interval
 * instead of the claim path. The crawl scenario measures politeness with its own configuration.
 */
function benchConfig(databaseUrl: string, overrides: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({
    env: {},
    overrides: {
      'database.url': databaseUrl,
      'scheduler.enabled': false,
      log_level: 'warn',
      'politeness.enabled': false,
      ...overrides,
    },
  });
}

/** Opens and migrates the store of a fresh database. */
export async function openBenchStore(
  databaseUrl: string,
  overrides: Record<string, unknown> = {},
): Promise<{ store: Store; config: Readonly<Config> }> {
  const config = benchConfig(databaseUrl, overrides);
  const store = await openStore(config);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, config };
}

/** Child nodes with credentials; `online` ones get a heartbeat now so that dispatch places work on them. */
export async function seedNodes(
  store: Store,
  count: number,
  options: { capacity: number; online: boolean; prefix?: string },
): Promise<NodeCredentials[]> {
  const nodes: NodeCredentials[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = `${options.prefix ?? 'bench-node'}-${i + 1}`;
    const { node, credentials } = await store.nodes.create({
      node_type: 1,
      name,
      sync_config: { max_capacity: options.capacity },
    });
    if (!credentials) throw new Error('a child node was created without credentials');
    if (options.online) await store.nodes.recordHeartbeat(node.id, {}, Date.now());
    nodes.push({ id: node.id, name, ...credentials });
  }
  return nodes;
}

/** Enabled feeds `BENCH_<n>` in multi-row inserts; `urlOf` gives each feed's source. */
export async function seedFeeds(
  store: Store,
  count: number,
  urlOf: (index: number) => string = (i) => `http://127.0.0.1:9/feed-${i}.xml`,
): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: count }, (_, i) => `BENCH_${i + 1}`);
  const perInsert = rowsPerInsert(store.caps, 12);
  for (const part of chunk(
    ids.map((id, i) => ({ id, i })),
    perInsert,
  )) {
    await databaseOf(store)
      .insertInto('feeds')
      .values(
        part.map(({ id, i }) => ({
          id,
          mp_name: `Feed ${id}`,
          mp_cover: '',
          mp_intro: '',
          faker_id: '',
          url: urlOf(i),
          status: 1,
          sync_time: null,
          update_time: null,
          article_count: 0,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
  return ids;
}

export async function seedTask(store: Store, feedIds: readonly string[], id = 'bench-task'): Promise<string> {
  const now = Date.now();
  await databaseOf(store)
    .insertInto('message_tasks')
    .values({
      id,
      name: id,
      message_type: 0,
      message_template: '',
      web_hook_url: '',
      headers: '{}',
      cookies: '',
      mps_id: JSON.stringify(feedIds.map((f) => ({ id: f }))),
      cron_exp: '',
      status: 1,
      webhook_secret: '',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

export async function seedAdmin(store: Store): Promise<void> {
  await store.users.create({
    username: BENCH_ADMIN.username,
    passwordHash: await hashPassword(BENCH_ADMIN.password),
    role: 'admin',
  });
}

/** Runs the real dispatcher in this process. */
export async function dispatchTask(store: Store, config: Readonly<Config>, taskId: string): Promise<DispatchSummary> {
  return new Dispatcher(store, config.dispatch).run({ taskId, trigger: 'cli' });
}

/**
 * The usual set-up of an HTTP scenario: `nodeCount` online nodes, `feedCount` feeds in one task, dispatched
 * (one feed per allocation, pre-assigned over the nodes). Returns the nodes and the task id.
 */
export async function seedDispatchedWork(
  store: Store,
  config: Readonly<Config>,
  options: { nodeCount: number; capacity: number; feedCount: number },
): Promise<{ nodes: NodeCredentials[]; taskId: string; summary: DispatchSummary }> {
  const nodes = await seedNodes(store, options.nodeCount, { capacity: options.capacity, online: true });
  const taskId = await seedTask(store, await seedFeeds(store, options.feedCount));
  const summary = await dispatchTask(store, config, taskId);
  if (summary.allocations_created !== options.feedCount)
    throw new Error(`dispatch created ${summary.allocations_created} allocations, expected ${options.feedCount}`);
  return { nodes, taskId, summary };
}
