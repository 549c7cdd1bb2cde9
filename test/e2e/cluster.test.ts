import { afterEach, describe, expect, it } from 'vitest';
import {
  allFinal,
  allocations,
  expectedArticleIds,
  startChild,
  startCluster,
  stopEverything,
  storedArticles,
} from './harness.js';
import { waitFor } from '../helpers/wait.js';

afterEach(stopEverything);

describe('parent + two children + fixture server', () => {
  it('completes every allocation, stores every article once, reports broken feeds with a reason, never exceeds capacity', async () => {
    const local = await startCluster({ 'dispatch.max_attempts': 1 });
    const feedIds = await local.addSampleFeeds();
    const task = await local.createTask('all sample feeds', feedIds);
    const capacities = { 'child-a': 4, 'child-b': 8 };
    const nodes = { 'child-a': await local.addNode('child-a', 4), 'child-b': await local.addNode('child-b', 8) };
    // A slow feed server keeps work in flight long enough for the capacity check to see it.
    local.feedServer.setDelayMs(150);
    for (const [name, node] of Object.entries(nodes))
      startChild(local, node, name, { maxConcurrency: capacities[name as keyof typeof capacities] });
    await waitFor('both children online', async () => {
      const list = await local.api.listAll<{ status: number }>('/api/v1/cascade/nodes?node_type=1');
      return list.filter((n) => n.status === 1).length === 2 ? true : undefined;
    });

    const dispatch = await local.dispatch(task.id);
    expect(dispatch.allocations_created).toBe(feedIds.length);
    const peakHeld = new Map<string, number>([
      ['child-a', 0],
      ['child-b', 0],
    ]);
    const rows = await waitFor('every allocation final', async () => {
      const current = await allocations(local, dispatch.schedule_run_id);
      for (const name of peakHeld.keys()) {
        const held = current
          .filter((r) => r.node_name === name && (r.status === 'claimed' || r.status === 'executing'))
          .reduce((n, r) => n + r.feed_ids.length, 0);
        peakHeld.set(name, Math.max(peakHeld.get(name) ?? 0, held));
      }
      return current.every((r) => ['completed', 'failed', 'timeout', 'cancelled'].includes(r.status))
        ? current
        : undefined;
    });

    expect(peakHeld.get('child-a')).toBeLessThanOrEqual(4);
    expect(peakHeld.get('child-b')).toBeLessThanOrEqual(8);
    expect((peakHeld.get('child-a') ?? 0) + (peakHeld.get('child-b') ?? 0)).toBeGreaterThan(0);
    const broken = rows.filter((r) => r.feed_ids.some((id) => id.startsWith('DEMO_BROKEN')));
    expect(broken).toHaveLength(2);
    for (const row of broken) {
      expect(row.status).toBe('failed');
      expect(row.error_message).toMatch(/not a feed/);
    }
    const good = rows.filter((r) => !broken.includes(r));
    expect(good.every((r) => r.status === 'completed')).toBe(true);
    expect(new Set(good.map((r) => r.node_name))).toEqual(new Set(['child-a', 'child-b']));

    const expected = expectedArticleIds(local, feedIds);
    const stored = await storedArticles(local);
    expect(stored.length).toBe(expected.size);
    expect(new Set(stored.map((a) => a.id))).toEqual(expected);
    expect(good.reduce((n, r) => n + r.article_count, 0)).toBe(expected.size);
  });

  it('conditional GET: a second run of unchanged feeds gets 304 and reports 0 new articles', async () => {
    const local = await startCluster();
    const names = ['rss2-tech-news.xml', 'atom-release-notes.atom', 'jsonfeed11-photos.json', 'rdf-science.rdf'];
    const feedIds = await local.addSampleFeeds(names);
    const task = await local.createTask('four feeds', feedIds);
    const node = await local.addNode('child-c', 4);
    const dir = `${local.dir}/child-c`;

    const first = await local.dispatch(task.id);
    const run1 = startChild(local, node, 'child-c', { maxConcurrency: 4, once: true, dir });
    expect((await run1.exited).code).toBe(0);
    const rows1 = await waitFor('first run final', () => allFinal(local, first.schedule_run_id));
    expect(
      rows1.every((r) => r.status === 'completed' && r.article_count > 0 && r.new_article_count === r.article_count),
    ).toBe(true);

    // Fetched a moment ago, so not due yet (docs/refresh.md): forced, to fetch again at once.
    const second = await local.dispatch(task.id, { force: true });
    const run2 = startChild(local, node, 'child-c', { maxConcurrency: 4, once: true, dir });
    expect((await run2.exited).code).toBe(0);
    const rows2 = await waitFor('second run final', () => allFinal(local, second.schedule_run_id));
    expect(rows2).toHaveLength(4);
    for (const row of rows2) expect(row).toMatchObject({ status: 'completed', article_count: 0, new_article_count: 0 });
    for (const name of names) expect(local.feedServer.notModified.get(`feeds/${name}`)).toBe(1);
    expect((await storedArticles(local)).length).toBe(expectedArticleIds(local, feedIds).size);
  });
});
