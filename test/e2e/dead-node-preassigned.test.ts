import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { allFinal, allocations, expectedArticleIds, startChild, startCluster, stopEverything, storedArticles } from './harness.js';

afterEach(stopEverything);

const FEEDS = ['rss2-tech-news.xml', 'rss2-podcast.xml', 'atom-release-notes.atom'];
const BEAT_S = 2;
const SUSPECT_AFTER_BEATS = 3;
const SWEEP_S = 1;

type NodeView = { status: number; liveness: string; last_heartbeat_at: string; heartbeat_interval_s: number | null };

/**
 * Issue #11 defect 4: a child killed with kill -9 stayed "online" until offline_after_seconds (180 s), and work
 * pre-assigned to it waited all that time while a live node sat idle. Liveness is now judged against the node's
 * own heartbeat interval: after 3 missed beats it is `suspect` and its pre-assigned work goes back to the pool.
 */
describeEachStore('a killed child’s pre-assigned work', (dialect) => {
  it('is taken by a live node within a few of the dead node’s heartbeat intervals, long before offline_after_seconds', async () => {
    const local = await startCluster({
      'database.url': await dialect.createDatabase(),
      'dispatch.sweep_interval_seconds': SWEEP_S,
      'dispatch.suspect_after_beats': SUSPECT_AFTER_BEATS,
      // Neither the offline rule nor the unclaimed-placement grace may be what frees the work here.
      'dispatch.offline_after_seconds': 600,
      'dispatch.preassign_grace_seconds': 600,
    });
    const feedIds = await local.addSampleFeeds(FEEDS);
    const task = await local.createTask('three feeds', feedIds);
    const doomedNode = await local.addNode('doomed', 3);
    const survivorNode = await local.addNode('survivor', 3);
    // The quota pins the feeds to `doomed` as long as it is a placement candidate.
    await local.api.call('PUT', `/api/v1/cascade/nodes/${doomedNode.id}`, { sync_config: { feed_quota: Object.fromEntries(feedIds.map((id) => [id, 1])) } });
    // No long-poll: a claim held open at the parent would take the work the moment it is dispatched.
    const doomed = startChild(local, doomedNode, 'doomed', { maxConcurrency: 3, cascade: { heartbeat_interval: BEAT_S, claim_wait_seconds: 0 } });
    startChild(local, survivorNode, 'survivor', { maxConcurrency: 3 });
    const nodeView = (id: string) => local.api.call<NodeView>('GET', `/api/v1/cascade/nodes/${id}`);
    await waitFor('both online', async () => ((await nodeView(doomedNode.id)).liveness === 'online' && (await nodeView(survivorNode.id)).liveness === 'online' ? true : undefined));
    expect((await nodeView(doomedNode.id)).heartbeat_interval_s).toBe(BEAT_S);

    doomed.process.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const run = await local.dispatch(task.id);
    const preassigned = (await allocations(local, run.schedule_run_id)).filter((r) => r.node_name === 'doomed' && r.status === 'pending');
    expect(preassigned.length, 'the dispatch pre-assigned the work to the dead node (it was not suspect yet)').toBe(FEEDS.length);

    const suspect = await waitFor('doomed suspect', async () => {
      const view = await nodeView(doomedNode.id);
      return view.liveness === 'suspect' ? view : undefined;
    });
    expect(suspect.status).toBe(1); // the wire status keeps the original's meaning: online until offline_after
    const rows = await waitFor('every allocation final', () => allFinal(local, run.schedule_run_id), 60_000);
    expect(rows.every((r) => r.status === 'completed' && r.node_name === 'survivor')).toBe(true);
    // Within a few of its heartbeat intervals after its last beat: the suspect rule, a sweep, and the claim.
    const lastBeat = Date.parse(suspect.last_heartbeat_at);
    for (const row of rows) {
      const detail = await local.api.call<{ attempts: Array<{ claimed_at: string }> }>('GET', `/api/v1/cascade/allocations/${row.id}`);
      expect(Date.parse(detail.attempts[0]!.claimed_at) - lastBeat).toBeLessThanOrEqual((SUSPECT_AFTER_BEATS + 2) * BEAT_S * 1000);
    }
    expect(new Set((await storedArticles(local)).map((a) => a.id))).toEqual(expectedArticleIds(local, feedIds));
  });
});
