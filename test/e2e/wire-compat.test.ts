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
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { OriginalChildClient, pythonTimestamp } from '../helpers/original-child.js';

afterEach(stopEverything);

describe('wire compatibility with the original Python child', () => {
  it('a client speaking exactly like the original completes an allocation against a local Cascade', async () => {
    const local = await startCluster();
    const [feedId] = await local.addSampleFeeds(['rss2-podcast.xml']);
    const task = await local.createTask('python', [feedId as string]);
    const node = await local.addNode('python-child', 1);
    const child = new OriginalChildClient(local.parent.url, '/api/v1/wx/cascade', node);

    expect((await child.send('POST', '/heartbeat')).status).toBe(200);
    const run = await local.dispatch(task.id);
    const pending = await child.send<{ allocation_id: string; task_id: string; feeds: Array<{ id: string }> } | null>(
      'GET',
      '/pending-tasks?limit=1',
    );
    expect(pending.status).toBe(200);
    const pkg = pending.body.data;
    expect(pkg?.feeds.map((f) => f.id)).toEqual([feedId]);
    const allocationId = pkg?.allocation_id as string;

    expect(
      (
        await child.send('PUT', '/task-status', {
          allocation_id: allocationId,
          status: 'executing',
          error_message: null,
          timestamp: pythonTimestamp(),
        })
      ).status,
    ).toBe(200);
    const articles = [1, 2].map((n) => ({
      id: `py-article-${n}`,
      mp_id: feedId,
      title: `Python article ${n}`,
      url: `https://example.org/py/${n}`,
      pic_url: null,
      content: '<p>content</p>',
      publish_time: String(1764236400 + n),
      description: 'from the Python child',
      ext: n === 1 ? null : { source: 'wx' },
    }));
    const upload = await child.send('POST', '/upload-articles', {
      allocation_id: allocationId,
      articles,
      timestamp: pythonTimestamp(),
    });
    expect(upload).toMatchObject({ status: 200, body: { code: 0, data: { received: 2, new_count: 2 } } });
    const report = await child.send('POST', '/report-completion', {
      allocation_id: allocationId,
      task_id: pkg?.task_id,
      results: [
        { feed_id: feedId, mp_name: 'podcast', success: true, article_count: 2, new_article_count: 2, error: null },
      ],
      article_count: 2,
      timestamp: pythonTimestamp(),
    });
    expect(report.status).toBe(200);

    const [row] = await allocations(local, run.schedule_run_id);
    expect(row).toMatchObject({ id: allocationId, status: 'completed', node_name: 'python-child', article_count: 2 });
    expect((await storedArticles(local)).map((a) => a.id).sort()).toEqual(['py-article-1', 'py-article-2']);
  });
});

describe('Cascade’s own child on either API prefix', () => {
  it.each(['/api/v1/cascade', '/api/v1/wx/cascade'])(
    'completes a task with its parent_api_url ending in %s',
    async (prefix) => {
      const local = await startCluster();
      const feedIds = await local.addSampleFeeds(['rss2-podcast.xml', 'atom-minimal.atom']);
      expect(feedIds).toHaveLength(2);
      const task = await local.createTask('prefixed', feedIds);
      const node = await local.addNode('prefixed-child', 2);
      const run = await local.dispatch(task.id);
      const child = startChild(local, node, 'prefixed-child', {
        maxConcurrency: 2,
        once: true,
        parentUrl: `${local.parent.url}${prefix}`,
      });
      expect((await child.exited).code).toBe(0);
      const rows = await waitFor('the task final', () => allFinal(local, run.schedule_run_id));
      expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'completed'));
      expect((await storedArticles(local)).length).toBe(expectedArticleIds(local, feedIds).size);
    },
  );
});

describe('npm run demo -- --exit', () => {
  it('runs the whole demo and exits 0 with a per-node summary', async () => {
    const run = await runCli(['demo', '--exit', '--timeout', '90'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
    expect(run.stdout).toMatch(/demo-child-a\s+\d+\s+\d+\s+\d+/);
    expect(run.stdout).toMatch(/demo-child-b\s+\d+\s+\d+\s+\d+/);
    expect(run.stdout).toMatch(/^total\s+21\s+2\s+\d+/m);
    // The demo's webhook receiver got the run's new articles.
    expect(run.stdout).toMatch(/^webhook got\s+[1-9]\d* deliveries with [1-9]\d* new articles$/m);
    // Its parent has stopped: no URL of it and no login (test/demo/run-demo.test.ts checks them while it runs).
    for (const gone of ['merged feed', 'console', 'admin login', 'API docs']) expect(run.stdout).not.toContain(gone);
    expect(run.code).toBe(0);
  }, 130_000);
});
