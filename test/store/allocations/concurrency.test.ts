import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

const ALLOCATIONS = 96;
const CLAIMERS = 32;

const dispatchRequest = (feedIds: string[], nowMs: number) => ({
  taskId: 'task-1',
  taskName: 'task one',
  feedIds,
  scheduleRunId: `run-${nowMs}`,
  nowMs,
  feedsPerAllocation: 1,
  offlineAfterSeconds: 180,
});

describeEachStore('allocation concurrency', (dialect) => {
  // Two stores with their own pools on one database: the store-level view of two parent processes. SQLite serves
  // one parent process (docs/scaling-out.md), and two synchronous SQLite connections in one process would block
  // each other's event loop, so there both "parents" share one connection and only the claimers are concurrent.
  let parentA: Store;
  let parentB: Store;
  let nodeIds: string[];
  beforeAll(async () => {
    const url = await dialect.createDatabase();
    parentA = await openTestStore(url, { 'dispatch.lease_seconds': 60 });
    parentB = dialect.variant.name === 'sqlite' ? parentA : await openTestStore(url, { 'dispatch.lease_seconds': 60 });
    nodeIds = await seedChildren(parentA, CLAIMERS, 1000);
  });
  afterAll(async () => {
    await parentA?.close();
    if (parentB !== parentA) await parentB?.close();
  });

  it(`${CLAIMERS} concurrent claimers on two connections claim each allocation exactly once`, async () => {
    const feeds = await seedFeeds(parentA, ALLOCATIONS);
    // No node is online, so every allocation lands in the unassigned pool that all claimers compete for.
    const outcome = await parentA.allocations.dispatch(dispatchRequest(feeds, Date.now()));
    expect(outcome).toMatchObject({ allocationsCreated: ALLOCATIONS, feedsUnassigned: ALLOCATIONS });

    const claimedBy = new Map<string, string[]>();
    await Promise.all(
      nodeIds.map(async (nodeId, i) => {
        const store = i % 2 === 0 ? parentA : parentB;
        for (;;) {
          const rows = await claimWithRetry(store, nodeId, 2);
          if (rows.length === 0) return;
          for (const row of rows) claimedBy.set(row.id, [...(claimedBy.get(row.id) ?? []), nodeId]);
        }
      }),
    );

    expect([...claimedBy.values()].filter((holders) => holders.length !== 1)).toEqual([]);
    expect(claimedBy.size).toBe(ALLOCATIONS);
    const rows = await databaseOf(parentB).selectFrom('allocations').select(['id', 'status', 'node_id']).execute();
    expect(rows.filter((r) => r.status !== 'claimed')).toEqual([]);
    for (const row of rows) expect(row.node_id).toBe(claimedBy.get(row.id)?.[0]);
    const attempts = await databaseOf(parentB).selectFrom('allocation_attempts').select(['allocation_id']).execute();
    expect(attempts.length).toBe(ALLOCATIONS);
    // Every node's load counter equals the feeds it holds.
    const nodes = await databaseOf(parentB).selectFrom('nodes').select(['id', 'load_feeds']).execute();
    for (const node of nodes)
      expect({ id: node.id, load: node.load_feeds }).toEqual({
        id: node.id,
        load: rows.filter((r) => r.node_id === node.id).length,
      });
  });

  it('two sweepers expiring the same leases at once requeue each allocation once', async () => {
    const later = Date.now() + 61_000;
    const [a, b] = await Promise.all([
      parentA.allocations.expireLeases(later),
      parentB.allocations.expireLeases(later),
    ]);
    expect(a.requeued + b.requeued).toBe(ALLOCATIONS);
    expect(a.timedOut + b.timedOut).toBe(0);
    const rows = await databaseOf(parentA).selectFrom('allocations').select(['status', 'attempt', 'node_id']).execute();
    expect(rows.every((r) => r.status === 'pending' && r.attempt === 2 && r.node_id === null)).toBe(true);
    const loads = await databaseOf(parentA).selectFrom('nodes').select('load_feeds').execute();
    expect(loads.every((n) => n.load_feeds === 0)).toBe(true);
  });

  it('two dispatches of one task at once create one live allocation per feed', async () => {
    const feeds = await seedFeeds(parentA, 20, 'race');
    const now = Date.now();
    const results = await Promise.allSettled([
      parentA.allocations.dispatch(dispatchRequest(feeds, now)),
      parentB.allocations.dispatch(dispatchRequest(feeds, now + 1)),
    ]);
    const created = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.allocationsCreated : 0), 0);
    expect(created).toBe(20);
    const live = await databaseOf(parentA)
      .selectFrom('live_feeds')
      .select('feed_id')
      .where('feed_id', 'in', feeds)
      .execute();
    expect(live.length).toBe(20);
  });
});

/** Child nodes `child-0 …` with the given capacity; offline, so dispatch leaves all work in the shared pool. */
async function seedChildren(store: Store, count: number, maxCapacity: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push(
      (await store.nodes.create({ node_type: 1, name: `child-${i}`, sync_config: { max_capacity: maxCapacity } })).node
        .id,
    );
  return ids;
}

/** A claim that lost a compare-and-set race (no SKIP LOCKED) is retried, as the Claimer does. */
async function claimWithRetry(store: Store, nodeId: string, max: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.allocations.claim(nodeId, max);
    } catch (error) {
      if ((error as { code?: string }).code !== 'CONFLICT' || attempt >= 20) throw error;
    }
  }
}
