import type { Store } from '../../src/store/store.js';
import { databaseOf } from '../../src/store/store.js';

/**
 * Seeds feeds and a task straight into the store, for dispatch tests that are not about feed/task CRUD.
 * Returns the feed ids.
 */
export async function seedFeeds(store: Store, count: number, prefix = 'MP_WXS_'): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  for (let i = 0; i < ids.length; i += 500) {
    await databaseOf(store)
      .insertInto('feeds')
      .values(
        ids.slice(i, i + 500).map((id) => ({
          id,
          mp_name: `Feed ${id}`,
          mp_cover: '',
          mp_intro: '',
          faker_id: '',
          url: `http://127.0.0.1:9/${id}.xml`,
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

export async function seedTask(
  store: Store,
  feedIds: readonly string[],
  options: { id?: string; name?: string; cron?: string; status?: number } = {},
): Promise<string> {
  const now = Date.now();
  const id = options.id ?? `task-${Math.random().toString(36).slice(2, 10)}`;
  await databaseOf(store)
    .insertInto('message_tasks')
    .values({
      id,
      name: options.name ?? id,
      message_type: 0,
      message_template: '',
      web_hook_url: '',
      headers: JSON.stringify({ 'x-task-header': 'secret-header' }),
      cookies: 'session=abc',
      mps_id: JSON.stringify(feedIds.map((feedId) => ({ id: feedId }))),
      cron_exp: options.cron ?? '',
      status: options.status ?? 1,
      webhook_secret: '',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Full contents of the tables a move may touch, for "nothing else changed" assertions. */
export async function snapshot(store: Store) {
  return {
    allocations: await databaseOf(store).selectFrom('allocations').selectAll().orderBy('id').execute(),
    live: await databaseOf(store).selectFrom('live_feeds').selectAll().orderBy('feed_id').execute(),
    attempts: await databaseOf(store).selectFrom('allocation_attempts').selectAll().orderBy('id').execute(),
    nodes: await databaseOf(store)
      .selectFrom('nodes')
      .select(['id', 'load_feeds', 'last_sync_at'])
      .orderBy('id')
      .execute(),
    feeds: await databaseOf(store)
      .selectFrom('feeds')
      .select(['id', 'update_time', 'sync_time', 'article_count'])
      .orderBy('id')
      .execute(),
    syncLogs: await databaseOf(store).selectFrom('sync_logs').selectAll().orderBy('id').execute(),
    articles: await databaseOf(store).selectFrom('articles').selectAll().orderBy('id').execute(),
  };
}

/** Load counters must equal the feeds of live work each node holds or has pre-assigned. */
export async function assertLoadCountersConsistent(store: Store): Promise<void> {
  const nodes = await databaseOf(store)
    .selectFrom('nodes')
    .select(['id', 'name', 'load_feeds', 'max_capacity'])
    .execute();
  const sums = await databaseOf(store)
    .selectFrom('allocations')
    .select(['node_id', (eb) => eb.fn.sum<number>('feed_count').as('n')])
    .where('status', 'in', ['pending', 'claimed', 'executing'])
    .where('node_id', 'is not', null)
    .groupBy('node_id')
    .execute();
  const byNode = new Map(sums.map((s) => [s.node_id, Number(s.n)]));
  for (const node of nodes) {
    const expected = byNode.get(node.id) ?? 0;
    if (Number(node.load_feeds) !== expected)
      throw new Error(`node ${node.name}: load_feeds ${node.load_feeds} but live feeds ${expected}`);
  }
}
