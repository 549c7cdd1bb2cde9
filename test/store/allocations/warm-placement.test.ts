import { afterEach, beforeEach, expect, it } from 'vitest';
import { databaseOf, type Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';

/**
 * Issue #17 item 3: an accepted completion records which node fetched each succeeded feed (feeds.last_node_id,
 * on PostgreSQL in the completion statement, elsewhere in its transaction), and dispatch prefers that node among
 * the nodes with room, unless a quota says otherwise; the placement note names the rule.
 */
describeEachStore('warm placement', (dialect) => {
  let store: Store;
  const t0 = Date.UTC(2026, 10, 30, 8, 0, 0);

  beforeEach(async () => {
    store = await openTestStore(await dialect.createDatabase());
  });
  afterEach(async () => {
    await store?.close();
  });

  const dispatch = (feedIds: string[], nowMs: number, feedsPerAllocation = 2) =>
    store.allocations.dispatch({
      taskId: `t-${nowMs}`,
      taskName: 'w',
      feedIds,
      scheduleRunId: `run-${nowMs}`,
      nowMs,
      feedsPerAllocation,
      offlineAfterSeconds: 3600,
    });
  const lastNodes = async (feedIds: string[]) =>
    Object.fromEntries(
      (
        await databaseOf(store).selectFrom('feeds').select(['id', 'last_node_id']).where('id', 'in', feedIds).execute()
      ).map((r) => [r.id, r.last_node_id]),
    );
  const placed = async (runAt: number) =>
    (
      await databaseOf(store)
        .selectFrom('allocations')
        .select(['node_id', 'feed_ids', 'placement'])
        .where('schedule_run_id', '=', `run-${runAt}`)
        .execute()
    ).map((r) => ({
      node_id: r.node_id,
      feeds: JSON.parse(r.feed_ids) as string[],
      placement: r.placement,
    }));

  async function addNode(name: string, capacity: number) {
    const id = (await store.nodes.create({ node_type: 1, name, sync_config: { max_capacity: capacity } })).node.id;
    await store.nodes.recordHeartbeat(id, {}, t0);
    return id;
  }

  /** Runs every pending allocation of `nodeId` to an accepted completion; `failed` feeds are reported failed. */
  async function runAll(nodeId: string, nowMs: number, failed: string[] = []) {
    const { allocations } = await store.allocations.claimPackages(nodeId, 10, nowMs);
    for (const allocation of allocations) {
      await store.allocations.start(allocation.id, nodeId, nowMs + 1);
      const results = allocation.feedIds.map((id) =>
        failed.includes(id)
          ? { mp_id: id, status: 'failed' as const, article_count: 0, error: 'HTTP 500' }
          : { mp_id: id, status: 'success' as const, article_count: 1 },
      );
      await store.allocations.complete(allocation.id, nodeId, results, results.length, nowMs + 2);
    }
    return allocations.length;
  }

  it('an accepted completion records the fetching node of its succeeded feeds; the next dispatch prefers it', async () => {
    const [f1, f2, f3] = (await seedFeeds(store, 3, 'WARM_')) as [string, string, string];
    const small = await addNode('small', 3);
    // Only `small` is online for the first run: it fetches f1 and f2; f3 fails there.
    await dispatch([f1, f2, f3], t0 + 100, 3);
    expect(await runAll(small, t0 + 200, [f3])).toBe(1);
    expect(await lastNodes([f1, f2, f3])).toEqual({ [f1]: small, [f2]: small, [f3]: null });

    // A bigger node joins: by free capacity it would take everything; warm keeps f1 and f2 on `small`.
    const big = await addNode('big', 10);
    await dispatch([f1, f2, f3], t0 + 1000);
    expect(await placed(t0 + 1000)).toEqual(
      expect.arrayContaining([
        { node_id: small, feeds: [f1, f2], placement: 'warm: small fetched these feeds last (2 of 2) and had room' },
        { node_id: big, feeds: [f3], placement: expect.stringMatching(/^free capacity: big had 10 of 10 slots free/) },
      ]),
    );
    await assertLoadCountersConsistent(store);

    // `big` fetches f3 and then f1 (a quota sends f1 there): each feed's last node follows its accepted completion.
    expect(await runAll(big, t0 + 2000)).toBe(1);
    expect(await runAll(small, t0 + 2100)).toBe(1);
    await store.nodes.update(big, { sync_config: { feed_quota: { [f1]: 1 } } });
    await dispatch([f1, f2, f3], t0 + 3000, 1);
    const third = await placed(t0 + 3000);
    expect(third).toEqual(
      expect.arrayContaining([
        { node_id: big, feeds: [f1], placement: expect.stringMatching(/^quota: big holds weight 1 for/) },
        { node_id: small, feeds: [f2], placement: 'warm: small fetched these feeds last (1 of 1) and had room' },
        { node_id: big, feeds: [f3], placement: 'warm: big fetched these feeds last (1 of 1) and had room' },
      ]),
    );
    expect(await runAll(big, t0 + 4000)).toBe(2);
    expect(await lastNodes([f1, f2, f3])).toEqual({ [f1]: big, [f2]: small, [f3]: big });
  });

  it('a refused completion does not move a feed’s last node', async () => {
    const [f1] = (await seedFeeds(store, 1, 'COLD_')) as [string];
    const a = await addNode('a', 2);
    await dispatch([f1], t0 + 100);
    const { allocations } = await store.allocations.claimPackages(a, 1, t0 + 200);
    await store.allocations.start(allocations[0]!.id, a, t0 + 201);
    await store.allocations.cancel(allocations[0]!.id, t0 + 202);
    await expect(
      store.allocations.complete(
        allocations[0]!.id,
        a,
        [{ mp_id: f1, status: 'success', article_count: 1 }],
        1,
        t0 + 203,
      ),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await lastNodes([f1])).toEqual({ [f1]: null });
  });
});
