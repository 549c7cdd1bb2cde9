import { afterEach, describe, expect, it } from 'vitest';
import { allocations, startCluster, stopEverything, storedArticles } from './harness.js';
import { runCli, REPO_ROOT } from '../helpers/cli.js';

afterEach(stopEverything);

/** Python's datetime.now().isoformat(): microseconds and no zone. */
const pythonTimestamp = (): string => new Date().toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1456');

describe('wire compatibility with the original Python child', () => {
  it('a client speaking exactly like the original completes an allocation', async () => {
    const local = await startCluster();
    const [feedId] = await local.addSampleFeeds(['rss2-podcast.xml']);
    const task = await local.createTask('python', [feedId as string]);
    const node = await local.addNode('python-child', 1);
    const base = `${local.parent.url}/api/v1/wx/cascade`;
    const headers = { Authorization: `AK-SK ${node.api_key}:${node.api_secret}`, 'Content-Type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: { code: number; data: never } }> => {
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, json: (await response.json()) as { code: number; data: never } };
    };

    expect((await call('POST', '/heartbeat', {})).status).toBe(200);
    const run = await local.dispatch(task.id);
    const pending = await call('GET', '/pending-tasks?limit=1');
    expect(pending.status).toBe(200);
    const pkg = (pending.json.data as { list: Array<{ allocation_id: string; task_id: string; feeds: Array<{ id: string; url: string }> }> }).list[0];
    expect(pkg?.feeds.map((f) => f.id)).toEqual([feedId]);
    const allocationId = pkg?.allocation_id as string;

    expect((await call('PUT', '/task-status', { allocation_id: allocationId, status: 'executing', timestamp: pythonTimestamp() })).status).toBe(200);
    const articles = [1, 2].map((n) => ({
      id: `py-article-${n}`,
      mp_id: feedId,
      title: `Python article ${n}`,
      url: `https://example.org/py/${n}`,
      pic_url: '',
      description: 'from the Python child',
      content: '<p>content</p>',
      content_markdown: 'content',
      publish_time: 1764236400 + n,
    }));
    const upload = await call('POST', '/upload-articles', { allocation_id: allocationId, articles, timestamp: pythonTimestamp() });
    expect(upload).toMatchObject({ status: 200, json: { code: 0, data: { received: 2, new_count: 2 } } });
    const report = await call('POST', '/report-completion', {
      allocation_id: allocationId,
      task_id: pkg?.task_id,
      results: [{ mp_id: feedId, status: 'success', article_count: 2 }],
      article_count: 2,
      timestamp: pythonTimestamp(),
    });
    expect(report.status).toBe(200);

    const [row] = await allocations(local, run.schedule_run_id);
    expect(row).toMatchObject({ id: allocationId, status: 'completed', node_name: 'python-child', article_count: 2 });
    expect((await storedArticles(local)).map((a) => a.id).sort()).toEqual(['py-article-1', 'py-article-2']);
  });
});

describe('npm run demo -- --exit', () => {
  it('runs the whole demo and exits 0 with a per-node summary', async () => {
    const run = await runCli(['demo', '--exit', '--timeout', '90'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
    expect(run.stdout).toMatch(/demo-child-a\s+\d+\s+\d+\s+\d+/);
    expect(run.stdout).toMatch(/demo-child-b\s+\d+\s+\d+\s+\d+/);
    expect(run.stdout).toMatch(/^total\s+21\s+2\s+\d+/m);
    expect(run.stdout).toContain('/api/docs');
    expect(run.stdout).toMatch(/^console\s+http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(run.code).toBe(0);
  }, 130_000);
});
