import { afterEach, describe, expect, it } from 'vitest';
import {
  allFinal,
  allocations,
  expectedArticleIds,
  readLog,
  startChild,
  startCluster,
  stopEverything,
  storedArticles,
} from './harness.js';
import { waitFor } from '../helpers/wait.js';

afterEach(stopEverything);

const SIX = [
  'rss2-tech-news.xml',
  'rss2-podcast.xml',
  'atom-release-notes.atom',
  'atom-engineering-blog.atom',
  'jsonfeed11-photos.json',
  'rdf-science.rdf',
];

describe('child failures and parent outages', () => {
  it('SIGKILL of a child mid-run: its allocations are requeued after the lease and completed by the other child', async () => {
    const local = await startCluster({
      'dispatch.lease_seconds': 2,
      'dispatch.sweep_interval_seconds': 1,
      'dispatch.offline_after_seconds': 5,
    });
    const feedIds = await local.addSampleFeeds(SIX);
    const task = await local.createTask('six feeds', feedIds);
    const doomedNode = await local.addNode('doomed', 3);
    const survivorNode = await local.addNode('survivor', 6);
    local.feedServer.setDelayMs(60_000); // feeds hang until the victim is dead
    const doomed = startChild(local, doomedNode, 'doomed', { maxConcurrency: 3 });
    await waitFor('doomed online', async () =>
      (await local.api.call<{ status: number }>('GET', `/api/v1/cascade/nodes/${doomedNode.id}`)).status === 1
        ? true
        : undefined,
    );
    const run = await local.dispatch(task.id);
    const held = await waitFor('doomed executing 3 allocations', async () => {
      const rows = (await allocations(local, run.schedule_run_id)).filter(
        (r) => r.node_name === 'doomed' && r.status === 'executing',
      );
      return rows.length === 3 ? rows : undefined;
    });
    doomed.process.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');

    local.feedServer.setDelayMs(0);
    startChild(local, survivorNode, 'survivor', { maxConcurrency: 6 });
    const rows = await waitFor('every allocation final', () => allFinal(local, run.schedule_run_id), 90_000);
    expect(rows.every((r) => r.status === 'completed' && r.node_name === 'survivor')).toBe(true);
    for (const was of held) expect(rows.find((r) => r.id === was.id)?.attempt).toBe(2);
    const stored = await storedArticles(local);
    expect(new Set(stored.map((a) => a.id))).toEqual(expectedArticleIds(local, feedIds));
    expect(stored.length).toBe(expectedArticleIds(local, feedIds).size);
  });

  it('parent down while a child holds finished results: the outbox delivers after the parent restarts on the same DB and port', async () => {
    const local = await startCluster();
    const feedIds = await local.addSampleFeeds(SIX.slice(0, 4));
    const task = await local.createTask('four feeds', feedIds);
    const node = await local.addNode('patient', 4);
    local.feedServer.setDelayMs(60_000);
    const child = startChild(local, node, 'patient', { maxConcurrency: 4, cascade: { claim_wait_seconds: 1 } });
    await waitFor('online', async () =>
      (await local.api.call<{ status: number }>('GET', `/api/v1/cascade/nodes/${node.id}`)).status === 1
        ? true
        : undefined,
    );
    const run = await local.dispatch(task.id);
    await waitFor('4 executing', async () =>
      (await allocations(local, run.schedule_run_id)).filter((r) => r.status === 'executing').length === 4
        ? true
        : undefined,
    );

    await local.stopParent();
    local.feedServer.setDelayMs(0);
    await waitFor('results parked in the outbox', () =>
      (readLog(child).match(/result kept in the outbox/g) ?? []).length > 0 ? true : undefined,
    );
    // Give the remaining feeds time to queue behind the first parked call; the log says so for each allocation.
    await waitFor('all four allocations finished locally', () =>
      (readLog(child).match(/allocation completed/g) ?? []).length >= 4 ? true : undefined,
    );

    await local.startParentAgain();
    const rows = await waitFor('every allocation completed', () => allFinal(local, run.schedule_run_id), 60_000);
    expect(rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(new Set((await storedArticles(local)).map((a) => a.id))).toEqual(expectedArticleIds(local, feedIds));
    expect(readLog(child)).toMatch(/outbox call delivered/);
    expect(child.running).toBe(true);
  });

  it('SIGTERM: the child stops claiming, finishes in-flight work and exits 0', async () => {
    const local = await startCluster();
    const feedIds = await local.addSampleFeeds(SIX);
    const task = await local.createTask('six feeds', feedIds);
    const node = await local.addNode('graceful', 2);
    local.feedServer.setDelayMs(1500);
    const child = startChild(local, node, 'graceful', { maxConcurrency: 2 });
    await waitFor('online', async () =>
      (await local.api.call<{ status: number }>('GET', `/api/v1/cascade/nodes/${node.id}`)).status === 1
        ? true
        : undefined,
    );
    const run = await local.dispatch(task.id);
    const inFlight = await waitFor('2 executing', async () => {
      const rows = (await allocations(local, run.schedule_run_id)).filter((r) => r.status === 'executing');
      return rows.length === 2 ? rows : undefined;
    });
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });

    const rows = await allocations(local, run.schedule_run_id);
    for (const was of inFlight) expect(rows.find((r) => r.id === was.id)?.status).toBe('completed');
    // Nothing else was claimed after the signal: the rest still waits in the pool.
    expect(rows.filter((r) => r.status === 'completed')).toHaveLength(2);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(4);
    expect(readLog(child)).toMatch(/child stopped/);
  });
});
