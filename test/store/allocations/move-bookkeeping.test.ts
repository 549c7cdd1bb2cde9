import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds, snapshot } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

/**
 * What claim, start and complete write besides the status, checked row by row. On PostgreSQL these moves run as
 * single statements (src/store/allocations/single-statement.ts) and elsewhere as transactions; this suite runs on
 * every store, so both paths must leave exactly the same bookkeeping.
 */
describeEachStore('claim, start and complete bookkeeping', (dialect) => {
  let store: Store;
  let nodeId: string;
  let feeds: string[];
  const t0 = Date.UTC(2026, 10, 27, 8, 0, 0);

  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase(), {
      'dispatch.lease_seconds': 60,
      'dispatch.retry_backoff_seconds': 0,
    });
    nodeId = (await store.nodes.create({ node_type: 1, name: 'worker', sync_config: { max_capacity: 10 } })).node.id;
    await store.nodes.recordHeartbeat(nodeId, {}, t0);
    feeds = await seedFeeds(store, 4);
    await store.allocations.dispatch({
      taskId: 'task-1',
      taskName: 'Task one',
      feedIds: feeds,
      scheduleRunId: 'run-1',
      nowMs: t0,
      feedsPerAllocation: 2,
      offlineAfterSeconds: 180,
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  const attemptsOf = (id: string) =>
    databaseOf(store)
      .selectFrom('allocation_attempts')
      .selectAll()
      .where('allocation_id', '=', id)
      .orderBy('attempt')
      .execute();
  const nodeRow = () =>
    databaseOf(store)
      .selectFrom('nodes')
      .select(['load_feeds', 'last_sync_at'])
      .where('id', '=', nodeId)
      .executeTakeFirstOrThrow();

  it('claim takes the oldest pre-assigned allocation, sets the lease and opens an attempt', async () => {
    const [claimed, ...more] = await store.allocations.claim(nodeId, 1, t0 + 1000);
    expect(more).toEqual([]);
    expect(claimed).toMatchObject({
      status: 'claimed',
      nodeId,
      attempt: 1,
      claimedAtMs: t0 + 1000,
      leaseExpiresAtMs: t0 + 61_000,
      startedAtMs: null,
    });
    const [attempt, ...others] = await attemptsOf(claimed!.id);
    expect(others).toEqual([]);
    expect(attempt).toMatchObject({
      attempt: 1,
      node_id: nodeId,
      claimed_at: t0 + 1000,
      started_at: null,
      ended_at: null,
      outcome: null,
    });
    // Pre-assigned work was counted at dispatch: the claim does not count it again.
    expect(Number((await nodeRow()).load_feeds)).toBe(4);
    await assertLoadCountersConsistent(store);
  });

  it('start records the start on the row and in the attempt; a repeat answers the row unchanged', async () => {
    const row = (
      await databaseOf(store)
        .selectFrom('allocations')
        .select('id')
        .where('status', '=', 'claimed')
        .executeTakeFirstOrThrow()
    ).id;
    const started = await store.allocations.start(row, { nodeId, attempt: 1 }, t0 + 2000);
    expect(started).toMatchObject({
      id: row,
      status: 'executing',
      startedAtMs: t0 + 2000,
      leaseExpiresAtMs: t0 + 62_000,
    });
    expect((await attemptsOf(row))[0]).toMatchObject({ started_at: t0 + 2000, ended_at: null });
    const repeated = await store.allocations.start(row, { nodeId, attempt: 1 }, t0 + 2500);
    expect(repeated).toMatchObject({ status: 'executing', startedAtMs: t0 + 2000 });
  });

  it('a completion naming a feed outside the allocation is refused and changes nothing', async () => {
    const row = await databaseOf(store)
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'executing')
      .executeTakeFirstOrThrow();
    const before = await snapshot(store);
    const error = await store.allocations
      .complete(
        row.id,
        { nodeId, attempt: 1 },
        [{ mp_id: 'NOT_IN_IT', status: 'success', article_count: 1 }],
        1,
        t0 + 3000,
      )
      .catch((e: { code: string }) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await snapshot(store)).toEqual(before);
  });

  it('a completion about another attempt gets LEASE_LOST and changes nothing', async () => {
    const row = await databaseOf(store)
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'executing')
      .executeTakeFirstOrThrow();
    const before = await snapshot(store);
    await expect(store.allocations.complete(row.id, { nodeId, attempt: 2 }, [], 0, t0 + 3000)).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    expect(await snapshot(store)).toEqual(before);
  });

  it('complete frees the load, closes the attempt, drops the live feeds, stamps the feeds and writes the sync log', async () => {
    const row = await databaseOf(store)
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'executing')
      .executeTakeFirstOrThrow();
    const [ok, broken] = JSON.parse(row.feed_ids) as [string, string];
    const results = [
      { mp_id: ok, status: 'success' as const, article_count: 3, new_article_count: 2 },
      { mp_id: broken, status: 'failed' as const, article_count: 0, error: 'HTTP 500' },
    ];
    const completion = await store.allocations.complete(row.id, { nodeId, attempt: 1 }, results, 99, t0 + 4000);
    expect(completion.moved).toBe(true);
    expect(completion.allocation).toMatchObject({
      id: row.id,
      status: 'completed',
      completedAtMs: t0 + 4000,
      leaseExpiresAtMs: null,
      articleCount: 3,
      newArticleCount: 2,
      errorMessage: `${broken}: HTTP 500`,
    });
    expect(completion.allocation.resultSummary).toEqual({
      results,
      failed_feeds: 1,
      succeeded_feeds: 1,
    });

    expect(await nodeRow()).toMatchObject({ load_feeds: 2, last_sync_at: t0 + 4000 });
    expect((await attemptsOf(row.id))[0]).toMatchObject({
      started_at: t0 + 2000,
      ended_at: t0 + 4000,
      outcome: 'completed',
      error_message: null,
    });
    expect(
      await databaseOf(store).selectFrom('live_feeds').select('feed_id').where('allocation_id', '=', row.id).execute(),
    ).toEqual([]);
    const stamped = await databaseOf(store)
      .selectFrom('feeds')
      .select(['id', 'update_time', 'sync_time'])
      .where('id', 'in', [ok, broken])
      .orderBy('id')
      .execute();
    const seconds = Math.floor((t0 + 4000) / 1000);
    expect(stamped.find((f) => f.id === ok)).toMatchObject({ update_time: seconds, sync_time: seconds });
    expect(stamped.find((f) => f.id === broken)).toMatchObject({ update_time: null, sync_time: null });

    const logs = await databaseOf(store)
      .selectFrom('sync_logs')
      .selectAll()
      .where('operation', '=', 'report_completion')
      .execute();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      node_id: nodeId,
      direction: 'push',
      status: 1,
      data_count: 3,
      error_message: `${broken}: HTTP 500`,
      started_at: t0 + 1000,
      completed_at: t0 + 4000,
    });
    expect(JSON.parse(logs[0]!.extra_data ?? 'null')).toEqual({
      allocation_id: row.id,
      task_id: 'task-1',
      new_article_count: 2,
      results,
    });
    await assertLoadCountersConsistent(store);
  });

  it('a repeated completion answers the row unchanged and writes nothing', async () => {
    const row = await databaseOf(store)
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'completed')
      .executeTakeFirstOrThrow();
    const before = await snapshot(store);
    const recorded = await store.allocations.views.get(row.id);
    const repeat = await store.allocations.complete(row.id, { nodeId, attempt: 1 }, [], 0, t0 + 5000);
    expect(repeat.moved).toBe(false);
    expect(repeat.allocation).toEqual(recorded);
    expect(await snapshot(store)).toEqual(before);
  });

  it('without reported new-article counts the stored count stays; when every feed failed the log says so', async () => {
    const [claimed] = await store.allocations.claim(nodeId, 1, t0 + 6000);
    await databaseOf(store)
      .updateTable('allocations')
      .set({ new_article_count: 7 })
      .where('id', '=', claimed!.id)
      .execute();
    await store.allocations.start(claimed!.id, nodeId, t0 + 6100);
    const failed = claimed!.feedIds.map((mp) => ({
      mp_id: mp,
      status: 'failed' as const,
      article_count: 0,
    }));
    const { allocation } = await store.allocations.complete(claimed!.id, nodeId, failed, 0, t0 + 6200);
    expect(allocation).toMatchObject({ status: 'completed', newArticleCount: 7, articleCount: 0 });
    const log = await databaseOf(store)
      .selectFrom('sync_logs')
      .selectAll()
      .where('completed_at', '=', t0 + 6200)
      .executeTakeFirstOrThrow();
    expect(log.status).toBe(2);
    expect(JSON.parse(log.extra_data ?? 'null')).toMatchObject({ new_article_count: 7 });
    expect(Number((await nodeRow()).load_feeds)).toBe(0);
    await assertLoadCountersConsistent(store);
  });
});
