import { afterEach, expect, it } from 'vitest';
import { databaseOf, type Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';

/**
 * Per-host politeness in the store (issue 17 item 1): the claim hands out work only while its hosts are under their
 * limits, counted by registrable domain in `host_state`, and every move that ends or requeues held work gives its
 * count back. Each test drives the claim and the moves with explicit times.
 */
describeEachStore('per-host politeness in the claim', (dialect) => {
  let store: Store;
  const t0 = Date.UTC(2026, 10, 30, 4, 0, 0);

  afterEach(async () => {
    await store?.close();
  });

  const open = async (overrides: Record<string, unknown> = {}) => {
    store = await openTestStore(await dialect.createDatabase(), {
      'politeness.enabled': true,
      'politeness.max_in_flight_per_host': 2,
      'politeness.min_interval_ms_per_host': 0,
      'dispatch.retry_backoff_seconds': 0,
      ...overrides,
    });
  };
  /** Feeds whose URLs are on the given hosts, one feed per entry. */
  const feedsOn = async (prefix: string, hosts: string[]) => {
    const ids = await seedFeeds(store, hosts.length, prefix);
    for (const [i, id] of ids.entries())
      await databaseOf(store)
        .updateTable('feeds')
        .set({ url: `https://${hosts[i]}/feed/${id}.xml` })
        .where('id', '=', id)
        .execute();
    return ids;
  };
  const node = async (name: string, capacity = 20) =>
    (await store.nodes.create({ node_type: 1, name, sync_config: { max_capacity: capacity } })).node.id;
  const dispatch = (feedIds: string[], nowMs: number, feedsPerAllocation = 1) =>
    store.allocations.dispatch({
      taskId: `t-${nowMs}`,
      taskName: 'polite',
      feedIds,
      scheduleRunId: `run-${nowMs}`,
      nowMs,
      feedsPerAllocation,
      offlineAfterSeconds: 180,
    });
  const inFlight = async () =>
    Object.fromEntries(
      (await databaseOf(store).selectFrom('host_state').select(['host', 'in_flight']).execute()).map((r) => [
        r.host,
        Number(r.in_flight),
      ]),
    );
  const hostsOf = async (allocationId: string) => {
    const ids = (await store.allocations.views.get(allocationId))?.feedIds ?? [];
    return (await databaseOf(store).selectFrom('feeds').select('url').where('id', 'in', ids).execute()).map(
      (f) => new URL(f.url).hostname,
    );
  };
  const pendingNotes = async () =>
    (
      await databaseOf(store).selectFrom('allocations').select('placement').where('status', '=', 'pending').execute()
    ).map((r) => r.placement);

  it('hands out at most max_in_flight feeds per registrable domain, says why the rest waits, and every ending move gives the count back', async () => {
    await open();
    const feeds = await feedsOn('POL_', [
      'a.example.com',
      'b.example.com',
      'example.com',
      'feeds.example.com',
      'www.other.org',
      '127.0.0.1:8080',
    ]);
    const n = await node('n');
    await dispatch(feeds, t0);

    const first = await store.allocations.claim(n, 10, t0 + 10);
    const hosts = (await Promise.all(first.map((row) => hostsOf(row.id)))).flat();
    expect(hosts.filter((h) => h.endsWith('example.com'))).toHaveLength(2);
    expect(hosts.filter((h) => !h.endsWith('example.com')).sort()).toEqual(['127.0.0.1', 'www.other.org']);
    expect(await inFlight()).toEqual({ 'example.com': 2, 'other.org': 1, '127.0.0.1': 1 });
    const notes = await pendingNotes();
    expect(notes).toHaveLength(2);
    for (const note of notes) expect(note).toMatch(/^waiting: host example\.com has 2 fetches in flight \(limit 2\); /);
    expect(await store.allocations.claim(n, 10, t0 + 20)).toEqual([]);

    // complete frees one slot: exactly one more goes out, and its waiting note is gone.
    const example = [] as string[];
    for (const row of first) if ((await hostsOf(row.id))[0]!.endsWith('example.com')) example.push(row.id);
    await store.allocations.start(example[0]!, n, t0 + 30);
    await store.allocations.complete(example[0]!, n, [], 0, t0 + 40);
    expect((await inFlight())['example.com']).toBe(1);
    const second = await store.allocations.claim(n, 10, t0 + 50);
    expect(second).toHaveLength(1);
    expect(second[0]!.placement).not.toMatch(/^waiting/);
    expect((await inFlight())['example.com']).toBe(2);

    // failRetry, expireRetry (the sweeper) and cancel each give back what their claim counted.
    await store.allocations.start(example[1]!, n, t0 + 60);
    const requeued = await store.allocations.fail(example[1]!, n, 'HTTP 500', t0 + 70);
    expect(requeued.status).toBe('pending');
    expect((await inFlight())['example.com']).toBe(1);
    await store.allocations.cancel(second[0]!.id, t0 + 80);
    expect((await inFlight())['example.com']).toBe(0);
    const third = await store.allocations.claim(n, 10, t0 + 90);
    expect(third).toHaveLength(2);
    const expired = await store.allocations.expireLeases(t0 + 90 + 10 * 60 * 1000);
    expect(expired.requeued + expired.timedOut).toBeGreaterThan(0);
    expect((await inFlight())['example.com']).toBe(0);
    expect(await inFlight()).toEqual({ 'example.com': 0, 'other.org': 0, '127.0.0.1': 0 });
    await assertLoadCountersConsistent(store);
  });

  it('spaces hand-outs of one host by min_interval_ms, and the claim says when to look again', async () => {
    await open({ 'politeness.min_interval_ms_per_host': 1000 });
    const feeds = await feedsOn('INT_', ['x.example.net', 'y.example.net']);
    const n = await node('n');
    await dispatch(feeds, t0);
    expect(await store.allocations.claim(n, 10, t0 + 10)).toHaveLength(1);
    const waiting = await store.allocations.claimPackages(n, 10, t0 + 1009);
    expect(waiting.allocations).toEqual([]);
    expect(waiting.hostsReadyAt).toBe(t0 + 1010);
    expect(await pendingNotes()).toEqual([
      expect.stringMatching(/^waiting: host example\.net was handed a fetch less than 1000 ms ago/),
    ]);
    expect(await store.allocations.claim(n, 10, t0 + 1010)).toHaveLength(1);
  });

  it('applies per-host overrides, and lets an allocation larger than the limit go out alone when its host is idle', async () => {
    await open({ 'politeness.hosts': { 'example.com': { max_in_flight: 1 } } });
    const feeds = await feedsOn('OVR_', [
      'a.example.com',
      'b.example.com',
      'c.example.com',
      'one.example.org',
      'two.example.org',
      'three.example.org',
    ]);
    const n = await node('n');
    await dispatch(feeds.slice(0, 3), t0);
    expect(await store.allocations.claim(n, 10, t0 + 10)).toHaveLength(1);
    expect((await inFlight())['example.com']).toBe(1);
    // Three feeds of example.org in one allocation (limit 2): out at once, since none is in flight.
    await dispatch(feeds.slice(3), t0 + 20, 3);
    const big = await store.allocations.claim(n, 10, t0 + 30);
    expect(big.map((allocation) => allocation.feedCount)).toEqual([3]);
    expect((await inFlight())['example.org']).toBe(3);
  });

  it('a reported Retry-After pauses the host for every claimer until then, within max_pause_seconds', async () => {
    await open({ 'politeness.max_pause_seconds': 60 });
    const feeds = await feedsOn('PAU_', ['api.slow.io', 'www.slow.io', 'fast.io']);
    const [a, b] = [await node('a'), await node('b')];
    await dispatch(feeds, t0);
    const paused = await store.hosts.pause([{ feedId: feeds[0]!, seconds: 30 }], 'test', t0);
    expect(paused).toEqual(new Map([['slow.io', t0 + 30000]]));
    // A shorter pause reported later does not end the longer one.
    await store.hosts.pause([{ feedId: feeds[1]!, seconds: 5 }], 'test', t0 + 1);
    const claimedA = await store.allocations.claim(a, 10, t0 + 100);
    expect((await Promise.all(claimedA.map((row) => hostsOf(row.id)))).flat()).toEqual(['fast.io']);
    expect(await store.allocations.claim(b, 10, t0 + 29999)).toEqual([]);
    for (const note of await pendingNotes())
      expect(note).toMatch(/^waiting: host slow\.io asked to be left alone \(Retry-After\) until /);
    expect(await store.allocations.claim(b, 10, t0 + 30000)).toHaveLength(2);
    // Bounded: an hour asked, a minute granted.
    await store.hosts.pause([{ feedId: feeds[2]!, seconds: 3600 }], 'test', t0 + 40000);
    expect((await store.hosts.list()).find((h) => h.host === 'fast.io')?.paused_until).toBe(
      new Date(t0 + 40000 + 60000).toISOString(),
    );
  });

  it('without politeness the claim counts no hosts', async () => {
    await open({ 'politeness.enabled': false });
    const feeds = await feedsOn('OFF_', ['a.example.com', 'b.example.com', 'c.example.com']);
    const n = await node('n');
    await dispatch(feeds, t0);
    expect(await store.allocations.claim(n, 10, t0 + 10)).toHaveLength(3);
    expect(await inFlight()).toEqual({});
    expect(await store.hosts.pause([{ feedId: feeds[0]!, seconds: 30 }], 'test', t0)).toEqual(new Map());
  });
});
