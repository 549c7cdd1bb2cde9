import type { Kysely } from 'kysely';
import { LIVE_STATUSES, type AllocationStatus } from '../../src/domain/allocation-states.js';
import type { Database } from '../../src/store/tables.js';
import type { AllocationFacts, ArticleFacts, AttemptFacts, CapacitySample, NodeFacts } from './invariants.js';

/**
 * Reads the database straight, on a connection of its own (never through the fault proxy), so it keeps
 * sampling while the parent is dead, stopped or cut off.
 */
export async function sampleCapacity(db: Kysely<Database>, atMs: number): Promise<CapacitySample[]> {
  const nodes = await readNodes(db);
  const held = await db
    .selectFrom('allocations')
    .select(['node_id', (eb) => eb.fn.sum<number | string>('feed_count').as('feeds')])
    .where('status', 'in', [...LIVE_STATUSES])
    .where('node_id', 'is not', null)
    .groupBy('node_id')
    .execute();
  return nodes.map((n) => ({
    atMs,
    node: n.name,
    loadFeeds: n.loadFeeds,
    maxCapacity: n.maxCapacity,
    heldFeeds: Number(held.find((h) => h.node_id === n.id)?.feeds ?? 0),
  }));
}

async function readNodes(db: Kysely<Database>): Promise<NodeFacts[]> {
  const rows = await db
    .selectFrom('nodes')
    .select(['id', 'name', 'load_feeds', 'max_capacity'])
    .where('node_type', '=', 1)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    loadFeeds: Number(r.load_feeds),
    maxCapacity: Number(r.max_capacity),
  }));
}

export type DatabaseFacts = {
  allocations: AllocationFacts[];
  attempts: AttemptFacts[];
  nodes: NodeFacts[];
  liveFeeds: Array<{ feedId: string; allocationId: string }>;
  articles: ArticleFacts[];
};

export async function readDatabaseFacts(db: Kysely<Database>): Promise<DatabaseFacts> {
  const allocations = await db
    .selectFrom('allocations')
    .select([
      'id',
      'status',
      'node_id',
      'attempt',
      'feed_ids',
      'feed_count',
      'available_at',
      'schedule_run_id',
      'dispatched_at',
    ])
    .execute();
  const attempts = await db.selectFrom('allocation_attempts').selectAll().execute();
  const liveFeeds = await db.selectFrom('live_feeds').selectAll().execute();
  const articles = await db.selectFrom('articles').select(['mp_id', 'url']).execute();
  return {
    allocations: allocations.map((a) => ({
      id: a.id,
      status: a.status as AllocationStatus,
      nodeId: a.node_id,
      attempt: Number(a.attempt),
      feedIds: JSON.parse(a.feed_ids) as string[],
      feedCount: Number(a.feed_count),
      availableAtMs: Number(a.available_at),
      runId: a.schedule_run_id,
      dispatchedAtMs: Number(a.dispatched_at),
    })),
    attempts: attempts.map((a) => ({
      id: Number(a.id),
      allocationId: a.allocation_id,
      attempt: Number(a.attempt),
      nodeId: a.node_id,
      claimedAtMs: Number(a.claimed_at),
      startedAtMs: a.started_at === null ? null : Number(a.started_at),
      endedAtMs: a.ended_at === null ? null : Number(a.ended_at),
      outcome: a.outcome,
    })),
    nodes: await readNodes(db),
    liveFeeds: liveFeeds.map((r) => ({ feedId: r.feed_id, allocationId: r.allocation_id })),
    articles: articles.map((a) => ({ feedId: a.mp_id, url: a.url })),
  };
}

/** How many allocations (of one dispatch, when given) are live now: pending, claimed or executing. */
export async function countLive(db: Kysely<Database>, runId?: string): Promise<{ live: number }> {
  const row = await db
    .selectFrom('allocations')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('status', 'in', [...LIVE_STATUSES])
    .$if(runId !== undefined, (q) => q.where('schedule_run_id', '=', runId as string))
    .executeTakeFirst();
  return { live: Number(row?.n ?? 0) };
}
