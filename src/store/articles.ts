import { sql, type Kysely } from 'kysely';
import { HELD_STATUSES } from '../domain/allocation-states.js';
import { CascadeError } from '../errors/cascade-error.js';
import type { Capabilities } from './dialects/capabilities.js';
import { rowsPerInsert, type NodeActor, type Trx } from './allocations/shared.js';
import { appendToDeliveries, type ArticleKey, type BatchSettings } from './deliveries/outbox.js';
import { likeContains } from './feeds.js';
import type { ArticleTable, Database } from './tables.js';
import { chunk, iso, parseJson } from './time.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { insertOrIgnore, insertOrUpdate } from './dialects/upsert.js';
import { compareKeys } from './key-order.js';

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
  ext?: Record<string, unknown> | undefined;
};

export type ArticleView = Omit<ArticleTable, 'created_at' | 'updated_at' | 'allocation_id' | 'node_id' | 'ext'> & {
  ext: Record<string, unknown> | null;
  created_at: string | null;
  updated_at: string | null;
};

/** An upload replaces an article's content, never its key: `mp_id` is not here (issue 12, defect 5). */
const UPDATABLE = [
  'title',
  'url',
  'pic_url',
  'description',
  'content',
  'content_markdown',
  'publish_time',
  'ext',
  'allocation_id',
  'node_id',
  'updated_at',
] as const;
/** Bound parameters per article row (its columns). */
const ARTICLE_COLUMNS = 14;

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** The primary key `(mp_id, id)` as one string; NUL cannot occur in either part (the request pipeline refuses it). */
function articleKey(article: { mp_id: string; id: string }): string {
  return `${article.mp_id}\u0000${article.id}`;
}

export class ArticlesStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
    private readonly batch: BatchSettings,
  ) {}

  /**
   * Upserts a node's articles for an allocation it holds (or completed: a repeated upload is harmless).
   * Returns how many were received and how many were new to the store. "New" is what the insert itself
   * reports (insert-or-ignore first, then update the rest), so concurrent duplicate uploads count each article
   * once. An article is keyed by its feed and id: an upload for one feed never touches another feed's article
   * with the same id. Rows go in key order so that overlapping uploads lock them in the same order. New articles
   * of a task with a webhook become deliveries in this same transaction (src/store/deliveries/outbox.ts).
   */
  async upload(
    allocationId: string,
    actor: NodeActor,
    articles: readonly ArticleInput[],
    nowMs = Date.now(),
  ): Promise<{ received: number; new_count: number }> {
    return this.db.transaction().execute(async (trx) => {
      const { feedIds, taskId } = await this.#heldFeeds(trx, allocationId, actor);
      const foreign = [...new Set(articles.filter((a) => !feedIds.has(a.mp_id)).map((a) => a.mp_id))];
      if (foreign.length > 0) {
        throw new CascadeError(
          'VALIDATION_FAILED',
          `articles name feeds that are not in allocation '${allocationId}': ${foreign.join(', ')}`,
          {
            details: foreign.map((mp) => ({ path: 'articles.mp_id', message: `'${mp}' is not in this allocation` })),
          },
        );
      }
      const unique = [...new Map(articles.map((a) => [articleKey(a), a])).values()].sort((a, b) =>
        compareKeys(articleKey(a), articleKey(b)),
      );
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
        ext: a.ext === undefined ? null : JSON.stringify(a.ext),
        allocation_id: allocationId,
        node_id: actor.nodeId,
        created_at: nowMs,
        updated_at: nowMs,
      }));
      const perFeed = new Map<string, number>();
      const newArticles: ArticleKey[] = [];
      let inserted = 0;
      for (const [feedId, group] of groupBy(rows, (r) => r.mp_id)) {
        for (const part of chunk(group, rowsPerInsert(this.caps, ARTICLE_COLUMNS))) {
          const { count, ids } = await this.#insertNew(trx, feedId, part);
          perFeed.set(feedId, (perFeed.get(feedId) ?? 0) + count);
          inserted += count;
          const fresh = new Set(ids);
          newArticles.push(...part.filter((r) => fresh.has(r.id)));
        }
      }
      if (newArticles.length > 0 && (await this.#notifies(trx, taskId)))
        await appendToDeliveries(trx, this.caps, taskId, newArticles, this.batch, nowMs);
      // Articles that were already stored get the new content.
      if (inserted < rows.length)
        for (const part of chunk(rows, rowsPerInsert(this.caps, ARTICLE_COLUMNS))) await this.#upsert(trx, part);
      for (const [feedId, n] of perFeed) {
        if (n > 0)
          await trx
            .updateTable('feeds')
            .set((eb) => ({ article_count: eb('article_count', '+', n) }))
            .where('id', '=', feedId)
            .execute();
      }
      if (inserted > 0) {
        await trx
          .updateTable('allocations')
          .set((eb) => ({ new_article_count: eb('new_article_count', '+', inserted) }))
          .where('id', '=', allocationId)
          .execute();
      }
      return { received: articles.length, new_count: inserted };
    });
  }

  /**
   * Inserts the rows of one feed whose (mp_id, id) is not stored yet; returns how many it inserted and their ids.
   * The ids are the rows absent just before the insert: uploads for one allocation are serialised by its row lock
   * (#heldFeeds), so nothing else of this allocation inserts in between.
   */
  async #insertNew(trx: Trx, feedId: string, rows: ArticleTable[]): Promise<{ count: number; ids: string[] }> {
    const present = new Set(
      (
        await trx
          .selectFrom('articles')
          .select('id')
          .where('mp_id', '=', feedId)
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute()
      ).map((r) => r.id),
    );
    const insert = trx.insertInto('articles').values(rows);
    const result = await insertOrIgnore(this.caps, insert, ['mp_id', 'id']).executeTakeFirst();
    const count = Number(result.numInsertedOrUpdatedRows ?? 0);
    return {
      count,
      ids:
        count === 0
          ? []
          : rows
              .map((r) => r.id)
              .filter((id) => !present.has(id))
              .slice(0, count),
    };
  }

  /** Whether the task wants to hear about new articles: it exists, is enabled and names a receiver. */
  async #notifies(trx: Trx, taskId: string): Promise<boolean> {
    const task = await trx
      .selectFrom('message_tasks')
      .select(['web_hook_url', 'status'])
      .where('id', '=', taskId)
      .executeTakeFirst();
    return task !== undefined && Number(task.status) === EnabledStatus.enabled && task.web_hook_url !== '';
  }

  async list(
    filter: {
      mp_id?: string | undefined;
      mp_ids?: readonly string[] | undefined;
      since?: number | undefined;
      search?: string | undefined;
    },
    limit: number,
    offset: number,
  ): Promise<{ list: ArticleView[]; total: number }> {
    let query = this.db.selectFrom('articles');
    if (filter.mp_id) query = query.where('mp_id', '=', filter.mp_id);
    if (filter.mp_ids)
      query =
        filter.mp_ids.length === 0 ? query.where((eb) => eb.val(1), '=', 0) : query.where('mp_id', 'in', filter.mp_ids);
    if (filter.since !== undefined) query = query.where('publish_time', '>=', filter.since);
    if (filter.search) query = query.where(sql<boolean>`lower(title) like ${likeContains(filter.search)} escape '!'`);
    const rows = await query
      .select([
        'id',
        'mp_id',
        'title',
        'url',
        'pic_url',
        'description',
        'content',
        'content_markdown',
        'publish_time',
        'ext',
        'created_at',
        'updated_at',
      ])
      .orderBy('publish_time', 'desc')
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return {
      list: rows.map((r) => ({
        ...r,
        publish_time: Number(r.publish_time),
        ext: r.ext === null ? null : parseJson<Record<string, unknown> | null>(r.ext, null),
        created_at: iso(r.created_at),
        updated_at: iso(r.updated_at),
      })),
      total: Number(total.n),
    };
  }

  /** The newest articles of some feeds (or of all when `mpIds` is undefined), times as epoch numbers: what a served feed lists. */
  async newest(
    mpIds: readonly string[] | undefined,
    limit: number,
  ): Promise<Array<Omit<ArticleTable, 'allocation_id' | 'node_id' | 'content_markdown' | 'created_at' | 'ext'>>> {
    if (mpIds !== undefined && mpIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('articles')
      .select(['id', 'mp_id', 'title', 'url', 'pic_url', 'description', 'content', 'publish_time', 'updated_at'])
      .$if(mpIds !== undefined, (q) => q.where('mp_id', 'in', mpIds as string[]))
      .orderBy('publish_time', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, publish_time: Number(r.publish_time), updated_at: Number(r.updated_at) }));
  }

  /** The allocation's feeds, read FOR UPDATE so that no requeue slips in between this check and the writes. */
  async #heldFeeds(
    trx: Trx,
    allocationId: string,
    actor: NodeActor,
  ): Promise<{ feedIds: Set<string>; taskId: string }> {
    const nodeId = actor.nodeId;
    const row = await trx
      .selectFrom('allocations')
      .select(['node_id', 'status', 'feed_ids', 'attempt', 'task_id'])
      .where('id', '=', allocationId)
      .$if(this.caps.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
    const sameAttempt = actor.attempt === undefined || Number(row?.attempt) === actor.attempt;
    const holds =
      row &&
      sameAttempt &&
      row.node_id === nodeId &&
      ([...HELD_STATUSES, 'completed'] as string[]).includes(row.status);
    if (row && holds) return { feedIds: new Set(parseJson<string[]>(row.feed_ids, [])), taskId: row.task_id };
    const heldBefore = row
      ? await trx
          .selectFrom('allocation_attempts')
          .select('id')
          .where('allocation_id', '=', allocationId)
          .where('node_id', '=', nodeId)
          .executeTakeFirst()
      : undefined;
    if (heldBefore)
      throw new CascadeError('LEASE_LOST', `This node no longer holds allocation '${allocationId}'; drop its work.`);
    if (row && row.node_id === nodeId)
      throw new CascadeError(
        'INVALID_TRANSITION',
        `Allocation '${allocationId}' is ${row.status}; claim it before uploading.`,
      );
    throw new CascadeError('NOT_FOUND', `Allocation '${allocationId}' does not exist.`);
  }

  async #upsert(trx: Trx, rows: ArticleTable[]): Promise<void> {
    await insertOrUpdate(this.caps, trx.insertInto('articles').values(rows), ['mp_id', 'id'], UPDATABLE).execute();
  }
}
