import type { Store } from '../../src/store/store.js';
import { seedFeeds, seedTask } from './seed.js';
import { databaseOf } from '../../src/store/store.js';

/** A node holding one executing allocation of a task whose notifications go to `webhookUrl`. */
export async function taskWithHeldAllocation(
  store: Store,
  webhookUrl: string,
  options: { feeds?: number; messageType?: number; template?: string; secret?: string } = {},
) {
  const nodeId = (
    await store.nodes.create({
      node_type: 1,
      name: `node-${Math.random().toString(36).slice(2, 8)}`,
      sync_config: { max_capacity: 100 },
    })
  ).node.id;
  await store.nodes.recordHeartbeat(nodeId, {}, Date.now());
  const feeds = await seedFeeds(store, options.feeds ?? 1, `MP_${Math.random().toString(36).slice(2, 6)}_`);
  const taskId = await seedTask(store, feeds);
  await store.tasks.update(taskId, {
    web_hook_url: webhookUrl,
    message_type: options.messageType ?? 1,
    ...(options.template === undefined ? {} : { message_template: options.template }),
    ...(options.secret === undefined ? {} : { webhook_secret: options.secret }),
  });
  await store.allocations.dispatch({
    taskId,
    taskName: taskId,
    feedIds: feeds,
    scheduleRunId: `run-${taskId}`,
    nowMs: Date.now(),
    feedsPerAllocation: feeds.length,
    offlineAfterSeconds: 180,
  });
  const [row] = await store.allocations.claim(nodeId, 1);
  if (!row) throw new Error('nothing to claim');
  await store.allocations.start(row.id, { nodeId });
  const articles = (count: number, from = 0, feed = feeds[0] as string) =>
    Array.from({ length: count }, (_, i) => ({
      id: `art-${feed}-${from + i}`,
      mp_id: feed,
      title: `Article ${from + i} <&>`,
      url: `https://example.com/${feed}/${from + i}`,
      publish_time: 1_790_000_000 + from + i,
    }));
  const upload = (list: ReturnType<typeof articles>) => store.articles.upload(row.id, { nodeId }, list);
  return { nodeId, feeds, taskId, allocationId: row.id, articles, upload };
}

export async function deliveryRows(store: Store, taskId: string) {
  const rows = await databaseOf(store)
    .selectFrom('deliveries')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const links = await databaseOf(store).selectFrom('delivery_articles').selectAll().execute();
  return rows.map((r) => ({
    ...r,
    articleIds: links
      .filter((l) => l.delivery_id === r.id)
      .map((l) => l.article_id)
      .sort(),
  }));
}
