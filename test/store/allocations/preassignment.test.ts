import { afterEach, beforeEach, expect, it } from 'vitest';
import { toNodeView } from '../../../src/store/nodes.js';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

/**
 * Issue #11 defect 4 in the store: a node that said how often it beats is `suspect` after 3 missed beats (nothing
 * new is placed on it, its pre-assigned work goes back to the pool), and pre-assigned work that its node has not
 * claimed within the grace goes back to the pool unless a quota pins it (the node holds weight > 0 for a feed).
 */
describeEachStore('pre-assignment is a preference', (dialect) => {
  let store: Store;
  const t0 = Date.UTC(2026, 10, 27, 8, 0, 0);
  const liveness = { offlineAfterSeconds: 180, suspectAfterBeats: 3 };

  beforeEach(async () => {
    store = await openTestStore(await dialect.createDatabase());
  });
  afterEach(async () => {
    await store?.close();
  });

  const dispatch = (feedIds: string[], nowMs: number) =>
    store.allocations.dispatch({
      taskId: `t-${nowMs}`,
      taskName: 'p',
      feedIds,
      scheduleRunId: `run-${nowMs}`,
      nowMs,
      feedsPerAllocation: 1,
      ...liveness,
    });
  const holders = async (feedIds: string[]) =>
    Object.fromEntries(
      (
        await databaseOf(store)
          .selectFrom('allocations')
          .innerJoin('allocation_feeds', 'allocation_feeds.allocation_id', 'allocations.id')
          .select(['allocation_feeds.feed_id', 'allocations.node_id'])
          .where('allocation_feeds.feed_id', 'in', feedIds)
          .execute()
      ).map((r) => [r.feed_id, r.node_id]),
    );

  it('a node that missed 3 of its own beats gets no new work and loses its pre-assigned work; one that never said its interval is judged by offline_after', async () => {
    const [f1, f2, f3] = await seedFeeds(store, 3, 'SUS_');
    const beating = (await store.nodes.create({ node_type: 1, name: 'beating', sync_config: { max_capacity: 2 } })).node
      .id;
    const original = (await store.nodes.create({ node_type: 1, name: 'original', sync_config: { max_capacity: 1 } }))
      .node.id;
    await store.nodes.recordHeartbeat(beating, { heartbeat_interval_ms: 1000 }, t0);
    await store.nodes.recordHeartbeat(original, {}, t0);
    await dispatch([f1!], t0 + 500);
    expect(await holders([f1!])).toEqual({ [f1!]: beating }); // the most free capacity
    const livenessAt = async (nodeId: string, nowMs: number) =>
      toNodeView(await store.nodes.get(nodeId), nowMs, liveness).liveness;
    expect(await livenessAt(beating, t0 + 2999)).toBe('online');
    expect(await livenessAt(beating, t0 + 3000)).toBe('suspect');
    expect(await livenessAt(original, t0 + 3000)).toBe('online');

    // 3 s later `beating` missed 3 beats: suspect. `original` (no interval) is still plainly online.
    const later = t0 + 3000;
    await dispatch([f2!], later);
    expect(await holders([f2!])).toEqual({ [f2!]: original });
    expect(await store.allocations.releaseOfflineNodes(180, later - 1, 3)).toBe(0);
    expect(await store.allocations.releaseOfflineNodes(180, later, 3)).toBe(1);
    expect(await holders([f1!])).toEqual({ [f1!]: null });
    await assertLoadCountersConsistent(store);

    // A beat makes it online again; new work goes to it once more.
    await store.nodes.recordHeartbeat(beating, { heartbeat_interval_ms: 1000 }, later + 100);
    await dispatch([f3!], later + 200);
    expect(await holders([f3!])).toEqual({ [f3!]: beating });
  });

  it('work its node has not claimed within the grace goes back to the pool, unless the node holds quota for one of its feeds', async () => {
    const [free, pinned] = await seedFeeds(store, 2, 'GRACE_');
    const busy = (
      await store.nodes.create({
        node_type: 1,
        name: 'busy',
        sync_config: { max_capacity: 5, feed_quota: { [pinned!]: 1 } },
      })
    ).node.id;
    const idle = (await store.nodes.create({ node_type: 1, name: 'idle', sync_config: { max_capacity: 1 } })).node.id;
    const t1 = t0 + 60_000;
    await store.nodes.recordHeartbeat(busy, {}, t1);
    await dispatch([free!, pinned!], t1);
    expect(await holders([free!, pinned!])).toEqual({ [free!]: busy, [pinned!]: busy });
    expect(await store.allocations.releaseStalePreassigned(30, t1 + 30_000)).toBe(0);
    expect(await store.allocations.releaseStalePreassigned(30, t1 + 30_001)).toBe(1);
    expect(await holders([free!, pinned!])).toEqual({ [free!]: null, [pinned!]: busy });
    await assertLoadCountersConsistent(store);
    // The idle node takes it from the pool; the pinned one waits for its node.
    const claimed = await store.allocations.claim(idle, 5, t1 + 30_002);
    expect(claimed.map((r) => r.feedIds)).toEqual([[free]]);
    await assertLoadCountersConsistent(store);
  });
});
