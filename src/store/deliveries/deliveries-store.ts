import type { Kysely } from 'kysely';
import { DELIVERY_MOVES, type DeliveryMove, type DeliveryStatus } from '../../domain/delivery-states.js';
import { CascadeError, notFound } from '../../errors/cascade-error.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { Database, DeliveryTable } from '../tables.js';
import { iso } from '../time.js';

/** A delivery as the program sees it: numbers as numbers, status as the union of states. */
export type Delivery = {
  id: string;
  taskId: string;
  status: DeliveryStatus;
  attempt: number;
  articleCount: number;
  availableAt: number;
  leaseExpiresAt: number | null;
  lastStatusCode: number | null;
  lastResponse: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
};

/** The API's view (snake case, ISO times, as every other resource). */
export type DeliveryView = {
  id: string;
  task_id: string;
  status: DeliveryStatus;
  attempt: number;
  article_count: number;
  available_at: string | null;
  last_status_code: number | null;
  last_response: string | null;
  last_error: string | null;
  created_at: string | null;
  updated_at: string | null;
  delivered_at: string | null;
};

/** One send's result, as the sender records it. */
export type SendOutcome = { statusCode: number | null; response: string | null; error: string | null };

function toDelivery(row: DeliveryTable): Delivery {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    taskId: row.task_id,
    status: row.status as DeliveryStatus,
    attempt: Number(row.attempt),
    articleCount: Number(row.article_count),
    availableAt: Number(row.available_at),
    leaseExpiresAt: num(row.lease_expires_at),
    lastStatusCode: num(row.last_status_code),
    lastResponse: row.last_response,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deliveredAt: num(row.delivered_at),
  };
}

export function toDeliveryView(d: Delivery): DeliveryView {
  return {
    id: d.id,
    task_id: d.taskId,
    status: d.status,
    attempt: d.attempt,
    article_count: d.articleCount,
    available_at: iso(d.availableAt),
    last_status_code: d.lastStatusCode,
    last_response: d.lastResponse,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    delivered_at: iso(d.deliveredAt),
  };
}

const KEPT_RESPONSE_CHARS = 2000;

/**
 * The only writer of `deliveries.status`. Each move is one UPDATE guarded by the move's source states and, for a
 * sender's moves, by the attempt it claimed: a sender whose lease expired and was overtaken cannot overwrite the
 * outcome of the attempt that replaced it.
 */
export class DeliveriesStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
  ) {}

  /**
   * pending → sending for up to `max` due deliveries, oldest due first. With SKIP LOCKED the candidates are locked
   * and taken in one transaction, so parallel senders pass each other; elsewhere each candidate is a
   * compare-and-set on (status, attempt), and a row another sender took first is simply not returned.
   */
  async claim(max: number, leaseMs: number, nowMs: number): Promise<Delivery[]> {
    const values = (row: { attempt: number }) => ({
      status: DELIVERY_MOVES.claim.to,
      attempt: Number(row.attempt) + 1,
      lease_expires_at: nowMs + leaseMs,
      updated_at: nowMs,
    });
    return this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('deliveries')
        .selectAll()
        .where('status', 'in', DELIVERY_MOVES.claim.from)
        .where('available_at', '<=', nowMs)
        .orderBy('available_at')
        .orderBy('id')
        .limit(max)
        .$if(this.caps.skipLocked, (q) => q.forUpdate().skipLocked())
        .execute();
      const claimed: Delivery[] = [];
      for (const row of due) {
        const next = values(row);
        const result = await trx
          .updateTable('deliveries')
          .set(next)
          .where('id', '=', row.id)
          .where('status', '=', row.status)
          .where('attempt', '=', row.attempt)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) claimed.push(toDelivery({ ...row, ...next }));
      }
      return claimed;
    });
  }

  /** sending → delivered. False when the attempt is no longer this sender's (its lease expired and another took it). */
  async markDelivered(delivery: Delivery, outcome: SendOutcome, nowMs: number): Promise<boolean> {
    return this.#finish(delivery, 'deliver', {
      ...kept(outcome),
      delivered_at: nowMs,
      lease_expires_at: null,
      updated_at: nowMs,
    });
  }

  /** sending → pending, due again at `retryAtMs`. */
  async markRetry(delivery: Delivery, outcome: SendOutcome, retryAtMs: number, nowMs: number): Promise<boolean> {
    return this.#finish(delivery, 'retry', {
      ...kept(outcome),
      available_at: retryAtMs,
      lease_expires_at: null,
      updated_at: nowMs,
    });
  }

  /** sending → failed, with the last answer kept. */
  async markFailed(delivery: Delivery, outcome: SendOutcome, nowMs: number): Promise<boolean> {
    return this.#finish(delivery, 'fail', { ...kept(outcome), lease_expires_at: null, updated_at: nowMs });
  }

  async #finish(delivery: Delivery, move: DeliveryMove, values: Partial<DeliveryTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ ...values, status: DELIVERY_MOVES[move].to })
      .where('id', '=', delivery.id)
      .where('status', 'in', DELIVERY_MOVES[move].from)
      .where('attempt', '=', delivery.attempt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Deliveries left `sending` by a sender that stopped (killed, disconnected) past their lease: back to pending,
   * or failed when that was the last attempt. The receiver may have got the lost send; it dedups by delivery id.
   */
  async recoverExpired(maxAttempts: number, nowMs: number): Promise<{ retried: number; failed: number }> {
    const base = () =>
      this.db.updateTable('deliveries').where('status', '=', 'sending').where('lease_expires_at', '<', nowMs);
    const error = 'the sender stopped before the receiver answered (lease expired)';
    const failed = await base()
      .set({ status: DELIVERY_MOVES.fail.to, lease_expires_at: null, last_error: error, updated_at: nowMs })
      .where('attempt', '>=', maxAttempts)
      .executeTakeFirst();
    const retried = await base()
      .set({
        status: DELIVERY_MOVES.retry.to,
        lease_expires_at: null,
        available_at: nowMs,
        last_error: error,
        updated_at: nowMs,
      })
      .where('attempt', '<', maxAttempts)
      .executeTakeFirst();
    return { retried: Number(retried.numUpdatedRows), failed: Number(failed.numUpdatedRows) };
  }

  /** delivered | failed → pending, attempts starting over. */
  async redeliver(id: string, nowMs: number): Promise<Delivery> {
    const current = await this.get(id);
    const result = await this.db
      .updateTable('deliveries')
      .set({
        status: DELIVERY_MOVES.redeliver.to,
        attempt: 0,
        available_at: nowMs,
        batch_closes_at: nowMs,
        lease_expires_at: null,
        updated_at: nowMs,
      })
      .where('id', '=', id)
      .where('status', 'in', DELIVERY_MOVES.redeliver.from)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new CascadeError(
        'INVALID_TRANSITION',
        `Delivery '${id}' is ${current.status}; only a delivered or failed delivery can be redelivered.`,
      );
    }
    return this.get(id);
  }

  async get(id: string): Promise<Delivery> {
    const row = await this.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Delivery', id);
    return toDelivery(row);
  }

  async list(
    filter: { task_id?: string | undefined; status?: string | undefined },
    limit: number,
    offset: number,
  ): Promise<{ list: Delivery[]; total: number }> {
    let query = this.db.selectFrom('deliveries');
    if (filter.task_id) query = query.where('task_id', '=', filter.task_id);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map(toDelivery), total: Number(total.n) };
  }

  /** The delivery's articles with their feed names, newest first. */
  async articles(id: string): Promise<
    Array<{
      id: string;
      mp_id: string;
      mp_name: string;
      title: string;
      url: string;
      description: string;
      pic_url: string;
      publish_time: number;
    }>
  > {
    const rows = await this.db
      .selectFrom('delivery_articles as da')
      .innerJoin('articles as a', (join) => join.onRef('a.id', '=', 'da.article_id').onRef('a.mp_id', '=', 'da.mp_id'))
      .leftJoin('feeds as f', 'f.id', 'a.mp_id')
      .select(['a.id', 'a.mp_id', 'f.mp_name', 'a.title', 'a.url', 'a.description', 'a.pic_url', 'a.publish_time'])
      .where('da.delivery_id', '=', id)
      .orderBy('a.publish_time', 'desc')
      .orderBy('a.id')
      .execute();
    return rows.map((r) => ({ ...r, mp_name: r.mp_name ?? r.mp_id, publish_time: Number(r.publish_time) }));
  }

  /** Deliveries by status, for the metrics gauge. */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}

function kept(outcome: SendOutcome): Pick<DeliveryTable, 'last_status_code' | 'last_response' | 'last_error'> {
  return {
    last_status_code: outcome.statusCode,
    last_response: outcome.response?.slice(0, KEPT_RESPONSE_CHARS) ?? null,
    last_error: outcome.error?.slice(0, KEPT_RESPONSE_CHARS) ?? null,
  };
}
