import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/store.js';

/** Inserts enabled feeds `<prefix>-0 … <prefix>-(count-1)` straight into the store and returns their ids. */
export async function seedFeeds(store: Store, count: number, prefix = 'feed'): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const rows = ids.map((id) => ({ id, mp_name: id, mp_cover: '', mp_intro: '', faker_id: '', url: `https://example.invalid/${id}.xml`, status: 1, sync_time: null, update_time: null, article_count: 0, created_at: now, updated_at: now }));
  for (let i = 0; i < rows.length; i += 200) await store.db.insertInto('feeds').values(rows.slice(i, i + 200)).execute();
  return ids;
}

/** Inserts an enabled message task over the given feeds; `cronExp` empty means manual dispatch only. */
export async function seedTask(store: Store, feedIds: readonly string[], options: { name?: string; cronExp?: string } = {}): Promise<string> {
  const now = Date.now();
  const id = randomUUID();
  await store.db
    .insertInto('message_tasks')
    .values({
      id,
      name: options.name ?? `task-${id.slice(0, 8)}`,
      message_type: 0,
      message_template: '',
      web_hook_url: '',
      headers: '{}',
      cookies: '{}',
      mps_id: JSON.stringify(feedIds.map((feedId) => ({ id: feedId }))),
      cron_exp: options.cronExp ?? '',
      status: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Creates child nodes `<prefix>-0 …` with the given capacity; they stay offline until they heartbeat. */
export async function seedChildren(store: Store, count: number, maxCapacity: number, prefix = 'child'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await store.nodes.create({ node_type: 1, name: `${prefix}-${i}`, sync_config: { max_capacity: maxCapacity } })).node.id);
  return ids;
}
