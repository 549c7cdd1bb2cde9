import { afterEach, expect, it } from 'vitest';
import { RequeueReason } from '../../src/domain/allocation-states.js';
import { describeEachStore } from '../helpers/databases.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
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

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await stopEverything();
  await proxy?.close();
  proxy = undefined;
});

const CLAIM_TIMEOUT_S = 5;
const SWEEP_S = 1;

/**
 * Issue #11 defect 2 with real processes: the claim commits on the parent but its answer is lost on the way (a
 * TCP proxy between the child and the parent resets the connection instead of passing the answer on). Before,
 * every heartbeat renewed that claim and the work stayed held until the lease ran out at best; now the child's
 * heartbeat does not list it, so the parent requeues it, and the claim timeout would in any case.
 */
describeEachStore('a lost claim answer', (dialect) => {
  it('gives every lost claim back through the heartbeat or the claim timeout, never its lease; the work completes on the next attempt', async () => {
    const local = await startCluster({
      'database.url': await dialect.createDatabase(),
      'dispatch.claim_timeout_seconds': CLAIM_TIMEOUT_S,
      'dispatch.sweep_interval_seconds': SWEEP_S,
      'dispatch.held_grace_seconds': 2,
      'dispatch.lease_seconds': 300,
    });
    const feedIds = await local.addSampleFeeds(['rss2-tech-news.xml', 'atom-release-notes.atom']);
    const task = await local.createTask('two feeds', feedIds);
    const node = await local.addNode('behind-proxy', 2);
    const parentUrl = new URL(local.parent.url);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(parentUrl.port) });
    startChild(local, node, 'behind-proxy', { maxConcurrency: 2, parentUrl: `http://127.0.0.1:${proxy.port}` });
    await waitFor('child online', async () =>
      (await local.api.call<{ status: number }>('GET', `/api/v1/cascade/nodes/${node.id}`)).status === 1
        ? true
        : undefined,
    );

    // The first answer that carries a task package is thrown away after the parent committed the claim.
    const dropped = proxy.dropNextAnswer((chunk) => chunk.includes('"feeds":['));
    const run = await local.dispatch(task.id);
    await dropped;
    const lost = (await allocations(local, run.schedule_run_id)).filter((r) => r.status === 'claimed');
    expect(lost.length).toBeGreaterThan(0);

    const rows = await waitFor('every allocation final', () => allFinal(local, run.schedule_run_id), 90_000);
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
    for (const was of lost) {
      const detail = await local.api.call<{
        attempts: Array<{ attempt: number; outcome: string; claimed_at: string; ended_at: string }>;
      }>('GET', `/api/v1/cascade/allocations/${was.id}`);
      const [first, second] = detail.attempts;
      expect(first?.outcome).toMatch(/^(not_held|claim_timeout)$/);
      expect(second).toMatchObject({ attempt: 2, outcome: 'completed' });
    }
    // Counted, not timed: every lost claim was given back by the heartbeat that did not list it or by the claim
    // timeout (both bounded by claim_timeout_seconds plus a sweep), none by its 300 s lease running out.
    const requeues = Object.fromEntries(
      (await local.parent.services.metrics.requeues.get()).values.map((v) => [String(v.labels.reason), v.value]),
    );
    expect((requeues[RequeueReason.notHeld] ?? 0) + (requeues[RequeueReason.claimTimeout] ?? 0)).toBe(lost.length);
    expect(requeues[RequeueReason.leaseExpired] ?? 0).toBe(0);
    const stored = await storedArticles(local);
    expect(new Set(stored.map((a) => a.id))).toEqual(expectedArticleIds(local, feedIds));
  });
});
