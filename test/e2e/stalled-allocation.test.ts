import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { startSlowFeed } from './slow-feed.js';
import {
  allocations,
  allFinal,
  startChild,
  startCluster,
  stopEverything,
  storedArticles,
  type Allocation,
} from './harness.js';

/**
 * Issue #17 item 4 end to end: a real child process reports its allocations' progress (feeds done, bytes read)
 * with each heartbeat. A fetch the feed server never answers makes no progress while the child keeps beating: the
 * parent flags the allocation `stalled` (API and metrics) after `stall_seconds` and requeues it after a second
 * period; the attempt's history says `stalled`. A feed that trickles its body slowly keeps making progress and is
 * never flagged, however long it takes.
 */
const STALL_SECONDS = 2;

let feed: Awaited<ReturnType<typeof startSlowFeed>> | undefined;
afterEach(async () => {
  await stopEverything();
  await feed?.close();
  feed = undefined;
});

describeEachStore('stalled allocations', (dialect) => {
  async function cluster(stallSeconds = STALL_SECONDS) {
    const local = await startCluster({
      'database.url': await dialect.createDatabase(),
      'dispatch.stall_seconds': stallSeconds,
      'dispatch.sweep_interval_seconds': 1,
      'dispatch.max_attempts': 5,
    });
    feed = await startSlowFeed();
    const created = await local.api.call<{ id: string }>('POST', '/api/v1/feeds', {
      id: 'SLOW_FEED',
      mp_name: 'slow',
      url: feed.url,
      status: 1,
    });
    const task = await local.createTask('slow', [created.id]);
    const node = await local.addNode('child-slow', 2);
    // The fetch timeout is far above the stall periods: only stall detection can take the wedged work away.
    const child = startChild(local, node, 'child-slow', { maxConcurrency: 2, cascade: { fetch_timeout_seconds: 300 } });
    return { local, task, node, child };
  }
  type Cluster = Awaited<ReturnType<typeof cluster>>;

  const one = async (c: Cluster, id: string) =>
    c.local.api.call<Allocation & { stalled: boolean; progress: unknown; attempts: Array<{ outcome: string | null }> }>(
      'GET',
      `/api/v1/cascade/allocations/${id}`,
    );
  const nodeBeat = async (c: Cluster) =>
    (await c.local.api.call<{ last_heartbeat_at: string }>('GET', `/api/v1/cascade/nodes/${c.node.id}`))
      .last_heartbeat_at;

  it('a fetch that hangs is flagged stalled while the node keeps beating, then requeued; the retry completes', async () => {
    const c = await cluster();
    feed!.setMode({ kind: 'hang' });
    const run = await c.local.dispatch(c.task.id);
    const [first] = await waitFor('the allocation executing with progress reported', async () => {
      const rows = await allocations(c.local, run.schedule_run_id);
      const row = rows[0] ? await one(c, rows[0].id) : undefined;
      return row?.status === 'executing' && row.progress !== null ? [row] : undefined;
    });
    expect(first!.progress).toMatchObject({ feeds_done: 0, bytes_read: 0 });

    const flagged = await waitFor('the allocation flagged stalled', async () => {
      const row = await one(c, first!.id);
      return row.stalled ? row : undefined;
    });
    expect(flagged).toMatchObject({ status: 'executing', attempt: 1 });
    const listed = await c.local.api.listAll<{ id: string }>('/api/v1/cascade/allocations?stalled=true');
    expect(listed.map((a) => a.id)).toContain(first!.id);
    const metrics = await (await fetch(`${c.local.parent.url}/metrics`)).text();
    expect(metrics).toMatch(/^cascade_stalls_total [1-9]/m);

    // The node beats on all the while: the requeue comes from the stall, not from a lapsed lease or a missed beat.
    const beatBefore = await nodeBeat(c);
    const requeued = await waitFor('the stalled attempt requeued', async () => {
      const row = await one(c, first!.id);
      return row.attempts.some((a) => a.outcome === 'stalled') ? row : undefined;
    });
    expect(requeued.attempts[0]).toMatchObject({ outcome: 'stalled' });
    expect(Date.parse(await nodeBeat(c))).toBeGreaterThan(Date.parse(beatBefore));
    expect(c.child.running).toBe(true);

    // The feed answers again: the wedged first attempt's late report is refused, a later attempt completes.
    feed!.setMode({ kind: 'answer' });
    feed!.release();
    const [done] = await waitFor('the allocation completed', () => allFinal(c.local, run.schedule_run_id));
    expect(done).toMatchObject({ status: 'completed' });
    expect((await one(c, first!.id)).attempts.filter((a) => a.outcome === 'completed')).toHaveLength(1);
    expect(await storedArticles(c.local)).toHaveLength(3);
    expect(await (await fetch(`${c.local.parent.url}/metrics`)).text()).toMatch(
      /^cascade_requeues_total\{reason="stalled"\} [1-9]/m,
    );
  });

  it('a feed that trickles its body keeps making progress and is never flagged', async () => {
    // A longer stall period than the hanging test: a heartbeat delayed on a loaded machine must not look like a stall.
    const c = await cluster(4);
    // 24 chunks every 500 ms: 12 s of reading, more than two stall periods; each beat sees more bytes.
    feed!.setMode({ kind: 'trickle', chunks: 24, everyMs: 500 });
    const run = await c.local.dispatch(c.task.id);
    let seenStalled = false;
    let seenBytes = 0;
    const [done] = await waitFor('the slow allocation completed', async () => {
      const rows = await allocations(c.local, run.schedule_run_id);
      const row = rows[0] ? await one(c, rows[0].id) : undefined;
      if (row?.stalled) seenStalled = true;
      seenBytes = Math.max(seenBytes, (row?.progress as { bytes_read?: number } | null)?.bytes_read ?? 0);
      return allFinal(c.local, run.schedule_run_id);
    });
    expect(done).toMatchObject({ status: 'completed', attempt: 1 });
    expect((await one(c, done!.id)).attempts.map((a) => a.outcome)).toEqual(['completed']);
    expect(seenStalled).toBe(false);
    expect(seenBytes).toBeGreaterThan(0); // the parent saw the bytes arrive
    expect(feed!.requests()).toBe(1);
  });
});
