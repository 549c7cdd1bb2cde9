import { afterEach, expect, it } from 'vitest';
import { RequeueReason } from '../../src/domain/allocation-states.js';
import { describeEachStore } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import {
  allFinal,
  allocations,
  expectedArticleIds,
  startChild,
  startCluster,
  stopEverything,
  storedArticles,
} from './harness.js';

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
  it('is released by the suspect rule (missed beats) and taken by a live node, long before offline_after_seconds', async () => {
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
    await local.api.call('PUT', `/api/v1/cascade/nodes/${doomedNode.id}`, {
      sync_config: { feed_quota: Object.fromEntries(feedIds.map((id) => [id, 1])) },
    });
    // No long-poll: a claim held open at the parent would take the work the moment it is dispatched.
    const doomed = startChild(local, doomedNode, 'doomed', {
      maxConcurrency: 3,
      cascade: { heartbeat_interval: BEAT_S, claim_wait_seconds: 0 },
    });
    startChild(local, survivorNode, 'survivor', { maxConcurrency: 3 });
    const nodeView = (id: string) => local.api.call<NodeView>('GET', `/api/v1/cascade/nodes/${id}`);
    await waitFor('both online', async () =>
      (await nodeView(doomedNode.id)).liveness === 'online' && (await nodeView(survivorNode.id)).liveness === 'online'
        ? true
        : undefined,
    );
    expect((await nodeView(doomedNode.id)).heartbeat_interval_s).toBe(BEAT_S);

    doomed.process.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const run = await local.dispatch(task.id);
    const preassigned = (await allocations(local, run.schedule_run_id)).filter(
      (r) => r.node_name === 'doomed' && r.status === 'pending',
    );
    expect(preassigned.length, 'the dispatch pre-assigned the work to the dead node (it was not suspect yet)').toBe(
      FEEDS.length,
    );

    const suspect = await waitFor('doomed suspect', async () => {
      const view = await nodeView(doomedNode.id);
      return view.liveness === 'suspect' ? view : undefined;
    });
    expect(suspect.status).toBe(1); // the wire status keeps the original's meaning: online until offline_after
    const rows = await waitFor('every allocation final', () => allFinal(local, run.schedule_run_id), 60_000);
    expect(rows.every((r) => r.status === 'completed' && r.node_name === 'survivor')).toBe(true);
    // The suspect rule freed the work, not the offline rule or the unclaimed-placement grace (both 600 s here):
    // the sweeper counted every pre-assigned allocation as released from a gone node and none as unclaimed too
    // long, and the dead node is still only suspect, not offline, now that the survivor has finished it all.
    const requeues = Object.fromEntries(
      (await local.parent.services.metrics.requeues.get()).values.map((v) => [String(v.labels.reason), v.value]),
    );
    expect(requeues[RequeueReason.nodeOffline], 'released because the node was suspect').toBe(FEEDS.length);
    expect(requeues[RequeueReason.preassignedUnclaimed] ?? 0, 'released by the pre-assignment grace').toBe(0);
    expect((await nodeView(doomedNode.id)).liveness, 'the dead node reached offline_after_seconds').toBe('suspect');
    for (const row of rows) {
      const detail = await local.api.call<{ attempts: Array<{ node_name: string | null; claimed_at: string }> }>(
        'GET',
        `/api/v1/cascade/allocations/${row.id}`,
      );
      // The dead node never claimed it: the survivor's claim is the first and only attempt.
      expect(detail.attempts.map((a) => a.node_name)).toEqual(['survivor']);
      expect(Date.parse(detail.attempts[0]!.claimed_at)).toBeGreaterThan(Date.parse(suspect.last_heartbeat_at));
    }
    expect(new Set((await storedArticles(local)).map((a) => a.id))).toEqual(expectedArticleIds(local, feedIds));
  });
});
