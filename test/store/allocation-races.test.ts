import { Cron } from 'croner';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Claimer } from '../../src/dispatch/claimer.js';
import { Sweeper } from '../../src/dispatch/sweeper.js';
import { scheduledTime } from '../../src/dispatch/scheduler.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { describeEachStore, type StoreUnderTest } from '../helpers/databases.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { holdOpenTransaction } from '../helpers/store.js';
import { waitFor } from '../helpers/wait.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function open(url: string, extra: Record<string, unknown> = {}): Promise<Store> {
  const store = await openStore(
    loadConfig({ env: {}, overrides: { 'database.url': url, 'dispatch.retry_backoff_seconds': 0, ...extra } }),
  );
  stores.push(store);
  await store.migrate();
  return store;
}

async function node(store: Store, name: string, cap: number, now = Date.now()): Promise<string> {
  const id = (await store.nodes.create({ node_type: 1, name, sync_config: { max_capacity: cap } })).node.id;
  await store.nodes.recordHeartbeat(id, {}, now);
  return id;
}

/** A fresh store with node `a` online and a task's feeds dispatched to it, one feed per allocation. */
async function dispatchedWork(
  dialect: StoreUnderTest,
  options: { capacity: number; feeds: number; config?: Record<string, unknown> },
) {
  const url = await dialect.createDatabase();
  const store = await open(url, options.config);
  const a = await node(store, 'a', options.capacity);
  const feeds = await seedFeeds(store, options.feeds);
  const task = await seedTask(store, feeds);
  await store.allocations.dispatch({
    taskId: task,
    taskName: task,
    feedIds: feeds,
    scheduleRunId: 'r',
    nowMs: Date.now(),
    feedsPerAllocation: 1,
    offlineAfterSeconds: 180,
  });
  return { url, store, a, feeds };
}

async function load(store: Store, id: string): Promise<number> {
  return Number(
    (await databaseOf(store).selectFrom('nodes').select('load_feeds').where('id', '=', id).executeTakeFirstOrThrow())
      .load_feeds,
  );
}

it('a cron trigger fired more than 5 s late keeps the key of its tick', () => {
  const job = new Cron('* * * * *', { paused: true });
  const tick = Date.UTC(2030, 0, 1, 12, 0, 0);
  const onTime = scheduledTime(job, tick + 3);
  const late = scheduledTime(job, tick + 6_000); // event loop blocked 6 s (e.g. synchronous SQLite busy wait)
  job.stop();
  expect(onTime).toBe(tick);
  expect(late).toBe(tick);
});

describeEachStore('allocation races and late reports', (dialect) => {
  it.skipIf(dialect.variant.name === 'sqlite')(
    'a cancel racing a release of the same pending work adjusts the load once (not on SQLite, which runs one writer at a time)',
    async () => {
      const { url, store, a } = await dispatchedWork(dialect, { capacity: 5, feeds: 1 });
      const [row] = await databaseOf(store).selectFrom('allocations').selectAll().execute();
      expect(row?.node_id).toBe(a);
      expect(await load(store, a)).toBe(1);
      // A second connection plays the sweeper's releasePending (same statements), holding its transaction open.
      const release = await holdOpenTransaction(url, async (trx) => {
        await trx
          .updateTable('allocations')
          .set({ node_id: null })
          .where('id', '=', row!.id)
          .where('node_id', '=', a)
          .where('status', '=', 'pending')
          .execute();
        await trx
          .updateTable('nodes')
          .set((eb) => ({ load_feeds: eb('load_feeds', '-', 1) }))
          .where('id', '=', a)
          .execute();
      });
      const cancel = store.allocations.cancel(row!.id); // reads node_id = a (committed), then blocks on the row lock
      expect(await release.waitUntilBlocking('the cancel', /allocations/i)).not.toHaveLength(0);
      await release.release();
      await cancel;
      expect(
        (await databaseOf(store).selectFrom('allocations').select('status').executeTakeFirstOrThrow()).status,
      ).toBe('cancelled');
      expect(await load(store, a)).toBe(0);
    },
  );

  it('a completion wakes the same node’s long-poll that was refused for lack of room', async () => {
    const { store, a } = await dispatchedWork(dialect, { capacity: 1, feeds: 2 });
    // a (capacity 1) got one pre-assigned allocation, the other is in the pool.
    const [first] = await store.allocations.claim(a, 1);
    await store.allocations.start(first!.id, a);
    // Packages each claim attempt of the claimer got, counted where it asks the store.
    const attempts: number[] = [];
    const claimPackages = store.allocations.claimPackages.bind(store.allocations);
    store.allocations.claimPackages = async (...args) => {
      const claimed = await claimPackages(...args);
      attempts.push(claimed.packages.length);
      return claimed;
    };
    const claimer = new Claimer(store);
    // A wait no test outlives: if the claim returns work, a wake ended its wait, not its deadline.
    const stop = new AbortController();
    let got: unknown[] | undefined;
    const waiting = claimer.claim(a, 1, 60 * 60_000, stop.signal).then((packages) => (got = packages));
    try {
      await waitFor('the claimer’s first attempt', () => (attempts.length > 0 ? true : undefined));
      // Refused: no room; it now waits for a wake (a store's wake channel may wake it spuriously once more first).
      expect(attempts.every((n) => n === 0)).toBe(true);
      await store.allocations.complete(first!.id, a, [], 0); // frees the room and wakes the waiter
      await waitFor('the claimer to be woken by the completion', () => got, 30_000);
    } finally {
      stop.abort();
      await waiting;
    }
    expect(got).toHaveLength(1);
    expect(attempts.at(-1)).toBe(1);
    expect(attempts.slice(0, -1).every((n) => n === 0)).toBe(true);
  });

  it('a late report after the last lease expired answers LEASE_LOST', async () => {
    const { store, a } = await dispatchedWork(dialect, {
      capacity: 5,
      feeds: 1,
      config: { 'dispatch.max_attempts': 1 },
    });
    const [row] = await store.allocations.claim(a, 1);
    await store.allocations.start(row!.id, a);
    await store.allocations.expireLeases(Date.now() + 10 * 60_000);
    const err = await store.allocations.complete(row!.id, a, [], 0).catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe('LEASE_LOST');
  });

  it.skipIf(dialect.variant.name === 'sqlite')(
    'the sweeper leaves alone a lease a heartbeat extended after the sweeper read it (not on SQLite, which runs one writer at a time)',
    async () => {
      const { url, store, a } = await dispatchedWork(dialect, { capacity: 5, feeds: 1 });
      const [row] = await store.allocations.claim(a, 1);
      const sweepNow = Number(row!.leaseExpiresAtMs) + 1; // the lease has just expired
      // The heartbeat (extendLeases) lands between the sweeper's SELECT and its guarded UPDATE.
      const heartbeat = await holdOpenTransaction(url, (trx) =>
        trx
          .updateTable('allocations')
          .set({ lease_expires_at: sweepNow + 120_000 })
          .where('id', '=', row!.id)
          .execute(),
      );
      const sweep = store.allocations.expireLeases(sweepNow);
      expect(await heartbeat.waitUntilBlocking('the sweeper’s guarded update', /allocations/i)).not.toHaveLength(0);
      await heartbeat.release();
      const moved = await sweep;
      const after = await databaseOf(store).selectFrom('allocations').selectAll().executeTakeFirstOrThrow();
      expect(moved.requeued).toBe(0);
      expect(after.status).toBe('claimed');
    },
  );

  it('a retried fail report naming its attempt cannot fail the next attempt of the same node', async () => {
    const { store, a } = await dispatchedWork(dialect, { capacity: 5, feeds: 1 });
    const [row] = await store.allocations.claim(a, 1);
    await store.allocations.start(row!.id, a);
    await store.allocations.fail(row!.id, a, 'attempt 1 failed'); // committed, but the HTTP answer got lost
    const [again] = await store.allocations.claim(a, 1, Date.now() + 1000); // same node reclaims attempt 2
    expect(again?.attempt).toBe(2);
    await store.allocations.start(row!.id, a);
    const dup = await store.allocations
      .fail(row!.id, { nodeId: a, attempt: 1 }, 'attempt 1 failed')
      .catch((e: { code: string }) => e); // the child's retry of the old report
    expect((dup as { code?: string }).code).toBe('LEASE_LOST');
    expect((await store.allocations.views.get(row!.id))?.status).toBe('executing');
  });

  it.skipIf(dialect.variant.name === 'sqlite')(
    'concurrent duplicate uploads count each new article once (not on SQLite, which runs one writer at a time)',
    async () => {
      const { store, a, feeds } = await dispatchedWork(dialect, { capacity: 5, feeds: 1 });
      const [row] = await store.allocations.claim(a, 1);
      const articles = Array.from({ length: 50 }, (_, i) => ({ id: `art-${i}`, mp_id: feeds[0]!, title: 't' }));
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => store.articles.upload(row!.id, { nodeId: a }, articles)),
      );
      const feed = await databaseOf(store).selectFrom('feeds').select('article_count').executeTakeFirstOrThrow();
      const newSum = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.new_count : 0), 0);
      expect(Number(feed.article_count)).toBe(50);
      expect(newSum).toBe(50);
    },
  );
});

describeEachStore('oversized pool work', (dialect) => {
  it('a pool allocation no node can hold any more is split by the sweeper, then claimed', async () => {
    const url = await dialect.createDatabase();
    const store = await open(url, { 'dispatch.feeds_per_allocation': 5 });
    const feeds = await seedFeeds(store, 5);
    const task = await seedTask(store, feeds);
    // An offline node of capacity 5 exists at dispatch time: one unassigned allocation of 5 feeds.
    const a = (await store.nodes.create({ node_type: 1, name: 'a', sync_config: { max_capacity: 5 } })).node.id;
    await store.allocations.dispatch({
      taskId: task,
      taskName: task,
      feedIds: feeds,
      scheduleRunId: 'r',
      nowMs: Date.now(),
      feedsPerAllocation: 5,
      offlineAfterSeconds: 180,
    });
    expect(
      (await databaseOf(store).selectFrom('allocations').select('feed_count').execute()).map((r) => r.feed_count),
    ).toEqual([5]);
    // Its capacity is lowered to 3: the 5-feed allocation fits nowhere now.
    await store.nodes.update(a, { sync_config: { max_capacity: 3 } });
    await store.nodes.recordHeartbeat(a, {}, Date.now());
    expect(await store.allocations.claim(a, 1)).toHaveLength(0);
    await new Sweeper(store, loadConfig({ env: {} }).dispatch, { info() {}, error() {} } as never).sweepOnce();
    const claimed = await store.allocations.claim(a, 1);
    expect(claimed).toHaveLength(1);
    const rows = await databaseOf(store)
      .selectFrom('allocations')
      .select(['status', 'feed_count'])
      .orderBy('feed_count')
      .execute();
    expect(rows.map((r) => r.feed_count)).toEqual([2, 3, 5]);
    expect(rows.map((r) => r.status).sort()).toEqual(['cancelled', 'claimed', 'pending']);
    expect(rows.find((r) => r.feed_count === 5)?.status).toBe('cancelled');
    const live = await databaseOf(store).selectFrom('live_feeds').select('feed_id').execute();
    expect(live).toHaveLength(5);
  });

  it('with no node known at dispatch, unassigned work is cut into single feeds any node can take', async () => {
    const url = await dialect.createDatabase();
    const store = await open(url, { 'dispatch.feeds_per_allocation': 5 });
    const feeds = await seedFeeds(store, 5);
    const task = await seedTask(store, feeds);
    await store.allocations.dispatch({
      taskId: task,
      taskName: task,
      feedIds: feeds,
      scheduleRunId: 'r',
      nowMs: Date.now(),
      feedsPerAllocation: 5,
      offlineAfterSeconds: 180,
    });
    expect(
      (await databaseOf(store).selectFrom('allocations').select('feed_count').execute()).map((r) => r.feed_count),
    ).toEqual([1, 1, 1, 1, 1]);
  });
});
