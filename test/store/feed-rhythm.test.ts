import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { FRESHNESS_DIVISOR } from '../../src/domain/feed-rhythm.js';
import { databaseOf, type Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { openTestStore } from '../helpers/store.js';

/**
 * Fetch only what is due (issue 17 item 2, docs/refresh.md) on every store: the completion and failure moves learn
 * each feed's rhythm in their own transaction (on PostgreSQL inside the one-statement completion), and a dispatch
 * leaves out the feeds that are not due, says so, and takes them when forced.
 */
describeEachStore('feed rhythm', (dialect) => {
  let store: Store;
  let dispatcher: Dispatcher;
  let nodeId: string;
  const MIN = 600;
  const MAX = 7200;

  beforeAll(async () => {
    const overrides = { 'refresh.min_interval': MIN, 'refresh.max_interval': MAX, 'dispatch.max_attempts': 1 };
    store = await openTestStore(await dialect.createDatabase(), overrides);
    dispatcher = new Dispatcher(
      store,
      loadConfig({ env: {}, overrides: { 'database.url': 'sqlite::memory:', ...overrides } }).dispatch,
    );
    nodeId = (await store.nodes.create({ node_type: 1, name: 'worker', sync_config: { max_capacity: 50 } })).node.id;
    await store.nodes.recordHeartbeat(nodeId, {}, Date.now());
  });
  afterAll(async () => {
    await store?.close();
  });

  const rhythmOf = async (id: string) =>
    databaseOf(store)
      .selectFrom('feeds')
      .select(['next_due_at', 'refresh_interval_seconds', 'refresh_failures', 'refresh_hint_seconds'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  /** Dispatches the task (forced or not), claims and starts what it created; returns the started allocations. */
  async function dispatchAndStart(taskId: string, force = false) {
    const summary = await dispatcher.run({ taskId, trigger: 'api', force });
    const rows = summary.allocations_created > 0 ? await store.allocations.claim(nodeId, 50) : [];
    for (const row of rows) await store.allocations.start(row.id, nodeId);
    return { summary, rows };
  }

  it('a completed feed is not due again until its learned interval has passed; the skip is explained; force takes it', async () => {
    const [feed] = await seedFeeds(store, 1, 'DUE_');
    const task = await seedTask(store, [feed as string]);
    const first = await dispatchAndStart(task);
    expect(first.summary).toMatchObject({
      allocations_created: 1,
      feeds_skipped_not_due: 0,
      forced: false,
      next_due_at: null,
      not_due: [],
    });
    const before = Date.now();
    // A 304: nothing new, no history. The interval starts at the minimum and doubles: 2 × MIN.
    await store.allocations.complete(
      first.rows[0]!.id,
      nodeId,
      [{ mp_id: feed as string, status: 'success', article_count: 0, new_article_count: 0 }],
      0,
    );
    const learned = await rhythmOf(feed as string);
    expect(Number(learned.refresh_interval_seconds)).toBe(2 * MIN);
    expect(Number(learned.next_due_at)).toBeGreaterThanOrEqual(before + 2 * MIN * 1000);

    const skipped = await dispatchAndStart(task);
    expect(skipped.summary).toMatchObject({ allocations_created: 0, feeds_skipped_not_due: 1, forced: false });
    expect(skipped.summary.not_due).toEqual([
      { task_id: task, feed_id: feed, next_due_at: new Date(Number(learned.next_due_at)).toISOString() },
    ]);
    expect(skipped.summary.next_due_at).toBe(new Date(Number(learned.next_due_at)).toISOString());
    expect(skipped.summary.tasks).toEqual([expect.objectContaining({ id: task, mp_count: 0 })]);

    const forced = await dispatchAndStart(task, true);
    expect(forced.summary).toMatchObject({ allocations_created: 1, feeds_skipped_not_due: 0, forced: true });
    await store.allocations.complete(
      forced.rows[0]!.id,
      nodeId,
      [{ mp_id: feed as string, status: 'success', article_count: 0, new_article_count: 0 }],
      0,
    );
    // Another 304 doubles again, up to the maximum and never past it.
    expect(Number((await rhythmOf(feed as string)).refresh_interval_seconds)).toBe(Math.min(4 * MIN, MAX));

    // Once due (as the clock will make it), the feed goes out again without force.
    await databaseOf(store)
      .updateTable('feeds')
      .set({ next_due_at: Date.now() - 1 })
      .where('id', '=', feed as string)
      .execute();
    expect((await dispatchAndStart(task)).summary).toMatchObject({ allocations_created: 1, feeds_skipped_not_due: 0 });
  });

  it('learns from the publish history and from what the feed declares, within the bounds', async () => {
    const [hourly, declared] = (await seedFeeds(store, 2, 'HIST_')) as [string, string];
    const task = await seedTask(store, [hourly, declared]);
    const { rows } = await dispatchAndStart(task);
    expect(rows).toHaveLength(2);
    const nowS = Math.floor(Date.now() / 1000);
    const byFeed = new Map(rows.map((r) => [r.feedIds[0] as string, r.id]));
    // Ten articles an hour apart, the last 10 minutes ago: the rhythm is one hour.
    const articles = Array.from({ length: 10 }, (_, i) => ({
      id: `a${i}`,
      mp_id: hourly,
      title: `t${i}`,
      publish_time: nowS - 600 - i * 3600,
    }));
    await store.articles.upload(byFeed.get(hourly)!, { nodeId }, articles);
    await store.allocations.complete(
      byFeed.get(hourly)!,
      nodeId,
      [{ mp_id: hourly, status: 'success', article_count: 10 }],
      10,
    );
    const h = await rhythmOf(hourly);
    // Fetched every quarter of its gap (FRESHNESS_DIVISOR): an article waits about 15 minutes at most.
    expect(Number(h.refresh_interval_seconds)).toBe(3600 / FRESHNESS_DIVISOR);
    const dueIn = (Number(h.next_due_at) - Date.now()) / 1000;
    expect(dueIn).toBeGreaterThan(3600 / FRESHNESS_DIVISOR - 60);
    expect(dueIn).toBeLessThanOrEqual(3600 / FRESHNESS_DIVISOR);

    // A feed declaring ttl of a day: a quarter of it (6 h) is the floor, clamped to refresh.max_interval (2 h).
    await store.allocations.complete(
      byFeed.get(declared)!,
      nodeId,
      [
        {
          mp_id: declared,
          status: 'success',
          article_count: 0,
          refresh_hints: { ttl_seconds: 86_400, max_age_seconds: 60 },
        },
      ],
      0,
    );
    const d = await rhythmOf(declared);
    expect(d).toMatchObject({ refresh_hint_seconds: 86_400 });
    expect(Number(d.refresh_interval_seconds)).toBe(MAX);
    expect(Number(d.next_due_at) - Date.now()).toBeLessThanOrEqual(MAX * 1000);
  });

  it('failed feeds back off, in a completion and when the allocation fails for good', async () => {
    const [a, b] = (await seedFeeds(store, 2, 'FAIL_')) as [string, string];
    const task = await seedTask(store, [a, b]);
    const { rows } = await dispatchAndStart(task);
    const byFeed = new Map(rows.map((r) => [r.feedIds[0] as string, r.id]));
    await store.allocations.complete(
      byFeed.get(a)!,
      nodeId,
      [{ mp_id: a, status: 'failed', article_count: 0, error: 'HTTP 500' }],
      0,
    );
    expect(await rhythmOf(a)).toMatchObject({ refresh_failures: 1 });
    // max_attempts 1: the report fails the allocation for good.
    await store.allocations.fail(byFeed.get(b)!, nodeId, 'every feed failed', Date.now());
    const failed = await rhythmOf(b);
    expect(failed).toMatchObject({ refresh_failures: 1, refresh_interval_seconds: MIN });
    expect(Number(failed.next_due_at)).toBeGreaterThan(Date.now() + (MIN - 60) * 1000);
    expect((await dispatchAndStart(task)).summary).toMatchObject({ allocations_created: 0, feeds_skipped_not_due: 2 });
  });
});
