import { sql, type Kysely } from 'kysely';
import { updateStatus, type UpdateStatus } from '../domain/feed-freshness.js';
import type { Database } from './tables.js';
import { iso } from './time.js';

export type FeedStatusView = {
  id: string;
  mp_name: string;
  status: number;
  update_time: number | null;
  update_status: UpdateStatus;
  article_count: number;
  latest_article_time: number | null;
  last_task: {
    allocation_id: string;
    status: string;
    time: string | null;
    node_id: string | null;
    node_name: string | null;
  } | null;
};

/**
 * Feed freshness, stalest first across the whole set (never-updated feeds first, then oldest update), paged.
 * A fixed number of queries per page, whatever its size: no query per feed.
 */
export async function feedStatusPage(
  db: Kysely<Database>,
  limit: number,
  offset: number,
  nowMs = Date.now(),
): Promise<{ list: FeedStatusView[]; total: number }> {
  const feeds = await db
    .selectFrom('feeds')
    .select(['id', 'mp_name', 'status', 'update_time', 'article_count'])
    .orderBy(sql`case when update_time is null then 0 else 1 end`)
    .orderBy('update_time')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
  const total = Number(
    (
      await db
        .selectFrom('feeds')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  if (feeds.length === 0) return { list: [], total };
  const ids = feeds.map((f) => f.id);

  const latestArticles = await db
    .selectFrom('articles')
    .select(['mp_id', (eb) => eb.fn.max('publish_time').as('latest')])
    .where('mp_id', 'in', ids)
    .groupBy('mp_id')
    .execute();
  const latestByFeed = new Map(latestArticles.map((r) => [r.mp_id, Number(r.latest)]));

  const lastTasks = await db
    .selectFrom('allocation_feeds as af')
    .innerJoin('allocations as a', 'a.id', 'af.allocation_id')
    .leftJoin('nodes as n', 'n.id', 'a.node_id')
    .select(['af.feed_id', 'a.id', 'a.status', 'a.created_at', 'a.updated_at', 'a.node_id', 'n.name as node_name'])
    .where('af.feed_id', 'in', ids)
    .where('a.created_at', '=', (eb) =>
      eb
        .selectFrom('allocation_feeds as af2')
        .innerJoin('allocations as a2', 'a2.id', 'af2.allocation_id')
        .select((e) => e.fn.max('a2.created_at').as('m'))
        .whereRef('af2.feed_id', '=', 'af.feed_id'),
    )
    .execute();
  const lastByFeed = new Map(lastTasks.map((r) => [r.feed_id, r]));

  return {
    total,
    list: feeds.map((f) => {
      const last = lastByFeed.get(f.id);
      const updateTime = f.update_time === null ? null : Number(f.update_time);
      return {
        id: f.id,
        mp_name: f.mp_name,
        status: Number(f.status),
        update_time: updateTime,
        update_status: updateStatus(updateTime, nowMs),
        article_count: Number(f.article_count),
        latest_article_time: latestByFeed.get(f.id) ?? null,
        last_task: last
          ? {
              allocation_id: last.id,
              status: last.status,
              time: iso(last.updated_at),
              node_id: last.node_id,
              node_name: last.node_name,
            }
          : null,
      };
    }),
  };
}
