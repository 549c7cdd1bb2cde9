import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';

/**
 * Claims take work in the order it became claimable (issue #11, defect 5): a dispatch's rows at their dispatch, a
 * requeued attempt at the end of its backoff. Ordering by `created_at`, which a whole dispatch shares and a
 * requeued attempt keeps, put a requeued attempt anywhere among its old batch, ahead of work that waited longer.
 */
describeEachStore('claim order', (dialect) => {
  let store: Store;
  const t0 = Date.UTC(2026, 10, 27, 8, 0, 0);

  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase(), { 'dispatch.retry_backoff_seconds': 2 });
  });
  afterAll(async () => {
    await store?.close();
  });

  const dispatch = (feedIds: string[], nowMs: number) =>
    // No node has beaten yet, so everything lands in the unassigned pool.
    store.allocations.dispatch({
      taskId: `task-${nowMs}`,
      taskName: 'order',
      feedIds,
      scheduleRunId: `run-${nowMs}`,
      nowMs,
      feedsPerAllocation: 1,
      offlineAfterSeconds: 180,
    });
  const feedOf = async (id: string) => (await store.allocations.views.get(id))?.feedIds ?? [];

  it('takes a requeued attempt after work claimable before the end of its backoff and before work dispatched after it', async () => {
    const [early1, early2, early3, middle, late] = await seedFeeds(store, 5, 'ORDER_');
    const a = (await store.nodes.create({ node_type: 1, name: 'a', sync_config: { max_capacity: 10 } })).node.id;
    const b = (await store.nodes.create({ node_type: 1, name: 'b', sync_config: { max_capacity: 10 } })).node.id;
    await dispatch([early1!, early2!, early3!], t0);
    await dispatch([middle!], t0 + 1000);
    // `a` takes one of the first batch and fails it at t0 + 1500: claimable again at t0 + 3500 (2 s backoff).
    const [lost] = await store.allocations.claim(a, 1, t0 + 1100);
    await store.allocations.start(lost!.id, a, t0 + 1200);
    const requeued = await store.allocations.fail(lost!.id, a, 'upstream 500', t0 + 1500);
    expect(requeued).toMatchObject({ status: 'pending', attempt: 2, claimableAtMs: t0 + 3500 });
    await dispatch([late!], t0 + 5000);

    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [row] = await store.allocations.claim(b, 1, t0 + 6000 + i);
      if (!row) break;
      order.push(...(await feedOf(row.id)));
    }
    const lostFeed = (await feedOf(lost!.id))[0]!;
    const restOfBatch = [early1!, early2!, early3!].filter((f) => f !== lostFeed);
    expect(order.slice(0, 2).sort()).toEqual(restOfBatch.sort());
    expect(order.slice(2)).toEqual([middle, lostFeed, late]);
  });
});
