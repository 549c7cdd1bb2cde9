import { afterEach, beforeEach, expect, it } from 'vitest';
import { databaseOf, type Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';

/**
 * Issue #17 item 4 in the store: progress reported with heartbeats moves an allocation's progress clock only when
 * the counters change; executing work without progress for one stall period while its lease is renewed is
 * flagged `stalled`, and requeued (attempt outcome `stalled`) after a second one. Work whose child reports no
 * progress (the original child) is never judged.
 */
describeEachStore('stall detection', (dialect) => {
  let store: Store;
  let nodeId: string;
  const t0 = Date.UTC(2026, 10, 30, 9, 0, 0);
  const STALL = 10;

  beforeEach(async () => {
    store = await openTestStore(await dialect.createDatabase(), {
      'dispatch.max_attempts': 2,
      'dispatch.lease_seconds': 600,
    });
    nodeId = (await store.nodes.create({ node_type: 1, name: 'worker', sync_config: { max_capacity: 10 } })).node.id;
    await store.nodes.recordHeartbeat(nodeId, {}, t0);
  });
  afterEach(async () => {
    await store?.close();
  });

  /** Dispatches `feeds` as one allocation each, claims and starts them all at t; returns their ids in feed order. */
  async function running(feeds: string[], t: number): Promise<string[]> {
    await store.allocations.dispatch({
      taskId: `t-${t}`,
      taskName: 's',
      feedIds: feeds,
      scheduleRunId: `run-${t}`,
      nowMs: t,
      feedsPerAllocation: 1,
      offlineAfterSeconds: 3600,
    });
    const rows = await store.allocations.claim(nodeId, 10, t + 1);
    for (const row of rows) await store.allocations.start(row.id, nodeId, t + 2);
    return feeds.map((feed) => rows.find((r) => r.feedIds.includes(feed))!.id);
  }
  const view = async (id: string) => (await store.allocations.views.view(id))!;
  const progress = (id: string, feedsDone: number, bytesRead: number, t: number) =>
    store.allocations.recordProgress(nodeId, [{ allocationId: id, feedsDone, bytesRead }], t);

  it('flags after one period without progress, lifts the flag on progress, requeues after a second period', async () => {
    const [f1] = (await seedFeeds(store, 1, 'STALL_')) as [string];
    const [id] = (await running([f1], t0)) as [string];
    const startedUpdatedAt = (await view(id)).updated_at;
    expect(await progress(id, 0, 0, t0 + 1000)).toBe(1); // the first report starts the clock
    expect(await progress(id, 0, 0, t0 + 5000)).toBe(0); // the same numbers do not move it
    // Progress alone is not news for the console's live feed (it follows updated_at); the flag and its lifting are.
    expect((await view(id)).updated_at).toBe(startedUpdatedAt);
    expect((await view(id)).progress).toEqual({
      feeds_done: 0,
      bytes_read: 0,
      last_progress_at: new Date(t0 + 1000).toISOString(),
    });

    expect(await store.allocations.sweepStalled(STALL, t0 + 1000 + STALL * 1000)).toEqual({
      flagged: 0,
      requeued: 0,
      timedOut: 0,
    });
    expect(await store.allocations.sweepStalled(STALL, t0 + 1001 + STALL * 1000)).toEqual({
      flagged: 1,
      requeued: 0,
      timedOut: 0,
    });
    expect(await view(id)).toMatchObject({
      status: 'executing',
      stalled: true,
      stalled_at: new Date(t0 + 1001 + STALL * 1000).toISOString(),
      updated_at: new Date(t0 + 1001 + STALL * 1000).toISOString(),
    });
    expect(await store.allocations.views.countStalled()).toBe(1);
    expect((await store.allocations.views.list({ stalled: true }, 10, 0)).list.map((a) => a.id)).toEqual([id]);
    expect((await store.allocations.views.list({ stalled: false }, 10, 0)).total).toBe(0);

    // Bytes arrive: the flag is lifted and the clock starts again from this report.
    const resumed = t0 + 15_000;
    expect(await progress(id, 0, 4096, resumed)).toBe(1);
    expect(await view(id)).toMatchObject({
      stalled: false,
      stalled_at: null,
      progress: { feeds_done: 0, bytes_read: 4096 },
      updated_at: new Date(resumed).toISOString(),
    });
    expect(await store.allocations.sweepStalled(STALL, resumed + 2 * STALL * 1000 + 1)).toEqual({
      flagged: 1,
      requeued: 1,
      timedOut: 0,
    });

    const requeued = await view(id);
    expect(requeued).toMatchObject({ status: 'pending', node_id: null, attempt: 2, stalled: false });
    expect(requeued.error_message).toMatch(/^attempt 1 stalled: no progress reported since/);
    expect(requeued.placement).toMatch(/^unassigned: requeued after attempt 1 stalled/);
    expect(requeued.attempts?.map((a) => a.outcome)).toEqual(['stalled']);
    await assertLoadCountersConsistent(store);

    // The next claim starts the attempt without progress: its own reports start the clock again.
    const [again] = await store.allocations.claim(nodeId, 1, resumed + 5 * STALL * 1000);
    expect(again).toMatchObject({ id, progressAtMs: null, stalledAtMs: null });
    expect((await view(id)).progress).toBeNull();
  });

  it('a stalled last attempt ends `timeout`; one with attempts left is requeued', async () => {
    const [f1, f2] = (await seedFeeds(store, 2, 'LAST_')) as [string, string];
    const ids = (await running([f1, f2], t0)) as [string, string];
    for (const id of ids) await progress(id, 1, 10, t0 + 1000);
    // Both run out of attempts: one is on its last attempt.
    await databaseOf(store).updateTable('allocations').set({ attempt: 2 }).where('id', '=', ids[0]).execute();
    await databaseOf(store)
      .updateTable('allocation_attempts')
      .set({ attempt: 2 })
      .where('allocation_id', '=', ids[0])
      .execute();
    expect(await store.allocations.sweepStalled(STALL, t0 + 1000 + STALL * 1000 + 1)).toMatchObject({ flagged: 2 });
    expect(await store.allocations.sweepStalled(STALL, t0 + 1000 + 2 * STALL * 1000 + 1)).toEqual({
      flagged: 0,
      requeued: 1,
      timedOut: 1,
    });
    expect(await view(ids[0])).toMatchObject({
      status: 'timeout',
      error_message: expect.stringMatching(/^attempt 2 of 2 stalled/),
    });
    expect(await view(ids[1])).toMatchObject({ status: 'pending', attempt: 2 });
    await assertLoadCountersConsistent(store);
  });

  it('never judges work whose child reports no progress, work whose lease lapsed, or reports about work the node does not hold', async () => {
    const [f1, f2] = (await seedFeeds(store, 2, 'QUIET_')) as [string, string];
    const [quiet, lapsed] = (await running([f1, f2], t0)) as [string, string];
    // `lapsed` reported progress once; its lease then runs out: the lease sweep's, not the stall sweep's.
    await progress(lapsed, 0, 0, t0 + 1000);
    await databaseOf(store)
      .updateTable('allocations')
      .set({ lease_expires_at: t0 + 2000 })
      .where('id', '=', lapsed)
      .execute();
    expect(await store.allocations.sweepStalled(STALL, t0 + 10 * STALL * 1000)).toEqual({
      flagged: 0,
      requeued: 0,
      timedOut: 0,
    });
    expect(await view(quiet)).toMatchObject({ status: 'executing', stalled: false, progress: null });

    const other = (await store.nodes.create({ node_type: 1, name: 'other', sync_config: { max_capacity: 1 } })).node.id;
    expect(
      await store.allocations.recordProgress(other, [{ allocationId: quiet, feedsDone: 1, bytesRead: 1 }], t0 + 3000),
    ).toBe(0);
    expect((await view(quiet)).progress).toBeNull();
  });
});
