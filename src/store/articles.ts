import { sql, type Kysely } from 'kysely';
import { HELD_STATUSES } from '../domain/allocation-states.js';
import { CascadeError } from '../errors/cascade-error.js';
import type { Capabilities } from './capabilities.js';
import { rowsPerInsert, type NodeActor, type Trx } from './allocations/shared.js';
import { likeContains } from './feeds.js';
import type { ArticleTable, Database } from './tables.js';
import { chunk, iso, parseJson } from './time.js';

export type ArticleInput = {
  id: string;
  mp_id: string;
  title?: string | undefined;
  url?: string | undefined;
  pic_url?: string | undefined;
  description?: string | undefined;
  content?: string | undefined;
  content_markdown?: string | undefined;
  publish_time?: number | undefined;
};

export type ArticleView = Omit<ArticleTable, 'created_at' | 'updated_at' | 'allocation_id' | 'node_id'> & { created_at: string | null; updated_at: string | null };

const UPDATABLE = ['mp_id', 'title', 'url', 'pic_url', 'description', 'content', 'content_markdown', 'publish_time', 'allocation_id', 'node_id', 'updated_at'] as const;

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

export class ArticlesStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
  ) {}

  /**
   * Upserts a node's articles for an allocation it holds (or completed: a repeated upload is harmless).
   * Returns how many were received and how many were new to the store. "New" is what the insert itself
   * reports (insert-or-ignore first, then update the rest), so concurrent duplicate uploads count each article
   * once. Rows go in id order so that overlapping uploads lock them in the same order.
   */
  async upload(allocationId: string, actor: NodeActor, articles: readonly ArticleInput[], nowMs = Date.now()): Promise<{ received: number; new_count: number }> {
    return this.db.transaction().execute(async (trx) => {
      const feedIds = await this.#heldFeeds(trx, allocationId, actor);
      const foreign = [...new Set(articles.filter((a) => !feedIds.has(a.mp_id)).map((a) => a.mp_id))];
      if (foreign.length > 0) {
        throw new CascadeError('VALIDATION_FAILED', `articles name feeds that are not in allocation '${allocationId}': ${foreign.join(', ')}`, {
          details: foreign.map((mp) => ({ path: 'articles.mp_id', message: `'${mp}' is not in this allocation` })),
        });
      }
      const unique = [...new Map(articles.map((a) => [a.id, a])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const rows: ArticleTable[] = unique.map((a) => ({
        id: a.id,
        mp_id: a.mp_id,
        title: a.title ?? '',
        url: a.url ?? '',
        pic_url: a.pic_url ?? '',
        description: a.description ?? '',
        content: a.content ?? '',
        content_markdown: a.content_markdown ?? '',
        publish_time: a.publish_time ?? 0,
        allocation_id: allocationId,
        node_id: actor.nodeId,
        created_at: nowMs,
        updated_at: nowMs,
      }));
      const perFeed = new Map<string, number>();
      let inserted = 0;
      for (const [feedId, group] of groupBy(rows, (r) => r.mp_id)) {
        for (const part of chunk(group, rowsPerInsert(this.caps, 13))) {
          const count = await this.#insertNew(trx, part);
          perFeed.set(feedId, (perFeed.get(feedId) ?? 0) + count);
          inserted += count;
        }
      }
      // Articles that were already stored get the new content.
      if (inserted < rows.length) for (const part of chunk(rows, rowsPerInsert(this.caps, 13))) await this.#upsert(trx, part);
      for (const [feedId, n] of perFeed) {
        if (n > 0) await trx.updateTable('feeds').set((eb) => ({ article_count: eb('article_count', '+', n) })).where('id', '=', feedId).execute();
      }
      if (inserted > 0) {
        await trx.updateTable('allocations').set((eb) => ({ new_article_count: eb('new_article_count', '+', inserted) })).where('id', '=', allocationId).execute();
      }
      return { received: articles.length, new_count: inserted };
    });
  }

  /** Inserts the rows whose id is not stored yet; returns how many it inserted. */
  async #insertNew(trx: Trx, rows: ArticleTable[]): Promise<number> {
    const insert = trx.insertInto('articles').values(rows);
    const result = this.caps.dialect === 'mysql' ? await insert.ignore().executeTakeFirst() : await insert.onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  async list(filter: { mp_id?: string | undefined; since?: number | undefined; search?: string | undefined }, limit: number, offset: number): Promise<{ list: ArticleView[]; total: number }> {
    let query = this.db.selectFrom('articles');
    if (filter.mp_id) query = query.where('mp_id', '=', filter.mp_id);
    if (filter.since !== undefined) query = query.where('publish_time', '>=', filter.since);
    if (filter.search) query = query.where(sql<boolean>`lower(title) like ${likeContains(filter.search)} escape '!'`);
    const rows = await query
      .select(['id', 'mp_id', 'title', 'url', 'pic_url', 'description', 'content', 'content_markdown', 'publish_time', 'created_at', 'updated_at'])
      .orderBy('publish_time', 'desc')
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return {
      list: rows.map((r) => ({ ...r, publish_time: Number(r.publish_time), created_at: iso(r.created_at), updated_at: iso(r.updated_at) })),
      total: Number(total.n),
    };
  }

  /** The allocation's feeds, read FOR UPDATE so that no requeue slips in between this check and the writes. */
  async #heldFeeds(trx: Trx, allocationId: string, actor: NodeActor): Promise<Set<string>> {
    const nodeId = actor.nodeId;
    const row = await trx
      .selectFrom('allocations')
      .select(['node_id', 'status', 'feed_ids', 'attempt'])
      .where('id', '=', allocationId)
      .$if(this.caps.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
    const sameAttempt = actor.attempt === undefined || Number(row?.attempt) === actor.attempt;
    const holds = row && sameAttempt && row.node_id === nodeId && ([...HELD_STATUSES, 'completed'] as string[]).includes(row.status);
    if (row && holds) return new Set(parseJson<string[]>(row.feed_ids, []));
    const heldBefore = row
      ? await trx.selectFrom('allocation_attempts').select('id').where('allocation_id', '=', allocationId).where('node_id', '=', nodeId).executeTakeFirst()
      : undefined;
    if (heldBefore) throw new CascadeError('LEASE_LOST', `This node no longer holds allocation '${allocationId}'; drop its work.`);
    if (row && row.node_id === nodeId) throw new CascadeError('INVALID_TRANSITION', `Allocation '${allocationId}' is ${row.status}; claim it before uploading.`);
    throw new CascadeError('NOT_FOUND', `Allocation '${allocationId}' does not exist.`);
  }

  async #upsert(trx: Trx, rows: ArticleTable[]): Promise<void> {
    const insert = trx.insertInto('articles').values(rows);
    if (this.caps.dialect === 'mysql') {
      await insert.onDuplicateKeyUpdate(Object.fromEntries(UPDATABLE.map((c) => [c, sql`values(${sql.ref(c)})`]))).execute();
      return;
    }
    await insert.onConflict((oc) => oc.column('id').doUpdateSet(Object.fromEntries(UPDATABLE.map((c) => [c, sql`excluded.${sql.ref(c)}`])))).execute();
  }
}
