import { randomUUID } from 'node:crypto';
import type { Capabilities } from '../dialects/capabilities.js';
import { rowsPerInsert, type Trx } from '../allocations/shared.js';
import { chunk } from '../time.js';

/** An article as the outbox names it: its feed and its id. */
export type ArticleKey = { mp_id: string; id: string };

export type BatchSettings = { batchSeconds: number; maxArticles: number };

/**
 * Writes the deliveries for a task's new articles in the caller's transaction, the one that stores the articles
 * (an outbox: both commit or neither). Articles join the task's open batch (pending, never tried, window still
 * open, room left) with a guarded UPDATE, so a sender that claimed the batch meanwhile makes the append miss and
 * a new batch open instead. A full batch becomes due at once; others when their window closes.
 */
export async function appendToDeliveries(
  trx: Trx,
  caps: Capabilities,
  taskId: string,
  articles: readonly ArticleKey[],
  settings: BatchSettings,
  nowMs: number,
): Promise<void> {
  if (articles.length === 0) return;
  let remaining = [...articles];
  const open = await trx
    .selectFrom('deliveries')
    .select(['id', 'article_count'])
    .where('task_id', '=', taskId)
    .where('status', '=', 'pending')
    .where('attempt', '=', 0)
    .where('batch_closes_at', '>', nowMs)
    .where('article_count', '<', settings.maxArticles)
    .orderBy('created_at', 'desc')
    .limit(1)
    .$if(caps.rowLocks, (q) => q.forUpdate())
    .executeTakeFirst();
  if (open) {
    const take = remaining.slice(0, settings.maxArticles - Number(open.article_count));
    const full = Number(open.article_count) + take.length >= settings.maxArticles;
    const joined = await trx
      .updateTable('deliveries')
      .set((eb) => ({
        article_count: eb('article_count', '+', take.length),
        updated_at: nowMs,
        ...(full ? { available_at: nowMs } : {}),
      }))
      .where('id', '=', open.id)
      .where('status', '=', 'pending')
      .where('attempt', '=', 0)
      .where('article_count', '=', Number(open.article_count))
      .executeTakeFirst();
    if (Number(joined.numUpdatedRows) === 1) {
      await insertArticles(trx, caps, open.id, take);
      remaining = remaining.slice(take.length);
    }
  }
  for (const part of chunk(remaining, settings.maxArticles)) {
    const id = randomUUID();
    const closesAt = nowMs + settings.batchSeconds * 1000;
    await trx
      .insertInto('deliveries')
      .values({
        id,
        task_id: taskId,
        status: 'pending',
        attempt: 0,
        article_count: part.length,
        batch_closes_at: closesAt,
        available_at: part.length >= settings.maxArticles ? nowMs : closesAt,
        lease_expires_at: null,
        last_status_code: null,
        last_response: null,
        last_error: null,
        created_at: nowMs,
        updated_at: nowMs,
        delivered_at: null,
      })
      .execute();
    await insertArticles(trx, caps, id, part);
  }
}

async function insertArticles(
  trx: Trx,
  caps: Capabilities,
  deliveryId: string,
  articles: readonly ArticleKey[],
): Promise<void> {
  for (const part of chunk(articles, rowsPerInsert(caps, 3))) {
    await trx
      .insertInto('delivery_articles')
      .values(part.map((a) => ({ delivery_id: deliveryId, mp_id: a.mp_id, article_id: a.id })))
      .execute();
  }
}
