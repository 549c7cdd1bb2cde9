import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

/**
 * The parent holds each feed's conditional-GET validators (issue #11 defect 3, #17 item 3): they change only with
 * an accepted completion that reports them for a succeeded feed, and every package carries them. On PostgreSQL
 * the completion is one statement, elsewhere a transaction; both must store the same.
 */
describeEachStore('feed validators', (dialect) => {
  let store: Store;
  let nodeId: string;
  let feeds: string[];
  const t0 = Date.UTC(2026, 10, 27, 8, 0, 0);

  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase());
    nodeId = (await store.nodes.create({ node_type: 1, name: 'worker', sync_config: { max_capacity: 10 } })).node.id;
    await store.nodes.recordHeartbeat(nodeId, {}, t0);
    feeds = await seedFeeds(store, 3, 'VAL_');
  });
  afterAll(async () => {
    await store?.close();
  });

  const validatorsOf = async () =>
    Object.fromEntries(
      (
        await databaseOf(store)
          .selectFrom('feeds')
          .select(['id', 'etag', 'last_modified'])
          .where('id', 'in', feeds)
          .execute()
      ).map((f) => [f.id, [f.etag, f.last_modified]]),
    );

  /** Dispatches the three feeds as one allocation, claims it and starts it; returns the package's feeds. */
  async function runOnce(nowMs: number) {
    await store.allocations.dispatch({
      taskId: `t-${nowMs}`,
      taskName: 'v',
      feedIds: feeds,
      scheduleRunId: `run-${nowMs}`,
      nowMs,
      feedsPerAllocation: 3,
      offlineAfterSeconds: 180,
    });
    const { allocations, packages } = await store.allocations.claimPackages(nodeId, 1, nowMs + 1);
    await store.allocations.start(allocations[0]!.id, nodeId, nowMs + 2);
    return { id: allocations[0]!.id, feeds: packages[0]!.feeds };
  }

  it('stores the validators of succeeded feeds with the completion and sends them in the next package', async () => {
    const [f1, f2, f3] = feeds as [string, string, string];
    const first = await runOnce(t0);
    expect(first.feeds.map((f) => [f.etag, f.last_modified])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    await store.allocations.complete(
      first.id,
      nodeId,
      [
        {
          mp_id: f1,
          status: 'success',
          article_count: 3,
          etag: '"e1"',
          last_modified: 'Thu, 01 Oct 2026 00:00:00 GMT',
        },
        { mp_id: f2, status: 'failed', article_count: 0, error: 'HTTP 500', etag: '"ignored"', last_modified: null },
        // The original child's form: no validators, so the stored ones stay.
        { mp_id: f3, status: 'success', article_count: 1 },
      ],
      4,
      t0 + 3,
    );
    expect(await validatorsOf()).toEqual({
      [f1]: ['"e1"', 'Thu, 01 Oct 2026 00:00:00 GMT'],
      [f2]: [null, null],
      [f3]: [null, null],
    });
    const second = await runOnce(t0 + 10_000);
    expect(Object.fromEntries(second.feeds.map((f) => [f.id, [f.etag, f.last_modified]]))).toEqual(
      await validatorsOf(),
    );

    // A success with an answer that carried no validators clears them; one that reports none keeps them (a 304).
    await store.allocations.complete(
      second.id,
      nodeId,
      [
        { mp_id: f1, status: 'success', article_count: 0 },
        { mp_id: f2, status: 'success', article_count: 2, etag: null, last_modified: 'Fri, 02 Oct 2026 00:00:00 GMT' },
        { mp_id: f3, status: 'success', article_count: 0, etag: '"e3"', last_modified: null },
      ],
      2,
      t0 + 10_003,
    );
    expect(await validatorsOf()).toEqual({
      [f1]: ['"e1"', 'Thu, 01 Oct 2026 00:00:00 GMT'],
      [f2]: [null, 'Fri, 02 Oct 2026 00:00:00 GMT'],
      [f3]: ['"e3"', null],
    });
  });

  it('a refused completion changes no validator', async () => {
    const before = await validatorsOf();
    const run = await runOnce(t0 + 20_000);
    await store.allocations.cancel(run.id, t0 + 20_003);
    await expect(
      store.allocations.complete(
        run.id,
        nodeId,
        [{ mp_id: feeds[0]!, status: 'success', article_count: 1, etag: '"late"' }],
        1,
        t0 + 20_004,
      ),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await validatorsOf()).toEqual(before);
  });
});
