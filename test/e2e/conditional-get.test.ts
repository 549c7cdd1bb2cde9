import { afterEach, expect, it } from 'vitest';
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

const FIXTURE = 'rss2-tech-news.xml';
type Node = { id: string; api_key: string; api_secret: string; name: string };

/**
 * Issue #11 defect 3: the child kept a feed's ETag right after parsing, so when the parent refused the upload
 * (LEASE_LOST) the next run got 304 and reported "success, 0 articles": the articles were lost. The parent now
 * holds the validators, stores them only with a completion it accepted, and sends them in the package.
 */
describeEachStore('conditional GET with validators held by the parent', (dialect) => {
  async function cluster() {
    // `--once` children stop beating when they exit; they must stay placement candidates (not suspect) between runs.
    const local = await startCluster({
      'database.url': await dialect.createDatabase(),
      'dispatch.suspect_after_beats': 100,
    });
    const [feedId] = await local.addSampleFeeds([FIXTURE]);
    const task = await local.createTask('one feed', [feedId!]);
    const nodes = [
      { ...(await local.addNode('child-a', 1)), name: 'child-a' },
      { ...(await local.addNode('child-b', 1)), name: 'child-b' },
    ];
    // Each child beats once with no work to do, so both are online and a quota can pin the feed to either.
    for (const node of nodes)
      expect((await startChild(local, node, node.name, { maxConcurrency: 1, once: true }).exited).code).toBe(0);
    const notModified = () => local.feedServer.notModified.get(`feeds/${FIXTURE}`) ?? 0;
    return {
      local,
      feedId: feedId!,
      taskId: task.id,
      a: nodes[0]!,
      b: nodes[1]!,
      nodes,
      expected: expectedArticleIds(local, [feedId!]),
      notModified,
    };
  }
  type Cluster = Awaited<ReturnType<typeof cluster>>;

  it('a refused upload followed by a re-run on the same child stores every article; the validators then travel to another node', async () => {
    const c = await cluster();
    await refusedRunOn(c, c.a);
    await runOn(c, c.a);
    expect(c.notModified()).toBe(0);
    expect(new Set((await storedArticles(c.local)).map((x) => x.id))).toEqual(c.expected);
    // The validators of the accepted run came with child-b's package: a 304, success with no articles.
    expect(await runOn(c, c.b)).toMatchObject({ article_count: 0 });
    expect(c.notModified()).toBe(1);
  });

  it('a refused upload followed by a re-run on another child stores every article', async () => {
    const c = await cluster();
    await refusedRunOn(c, c.a);
    await runOn(c, c.b);
    expect(c.notModified()).toBe(0);
    expect(new Set((await storedArticles(c.local)).map((x) => x.id))).toEqual(c.expected);
  });

  /** Pins the feed to `runner` by quota (both nodes are online) and dispatches. */
  async function dispatchTo(c: Cluster, runner: Node) {
    for (const node of c.nodes) {
      await c.local.api.call('PUT', `/api/v1/cascade/nodes/${node.id}`, {
        sync_config: { feed_quota: node === runner ? { [c.feedId]: 1 } : {} },
      });
    }
    // Each run fetches the feed again at once: forced, since it is not due yet (docs/refresh.md).
    return c.local.dispatch(c.taskId, { force: true });
  }

  /** One run on `runner`; returns its allocation. */
  async function runOn(c: Cluster, runner: Node) {
    const run = await dispatchTo(c, runner);
    expect((await startChild(c.local, runner, runner.name, { maxConcurrency: 1, once: true }).exited).code).toBe(0);
    const [row] = await waitFor(`${runner.name} run final`, () => allFinal(c.local, run.schedule_run_id));
    expect(row).toMatchObject({ status: 'completed', node_name: runner.name });
    return row;
  }

  /** A run on `runner` whose feed answers (200, with an ETag) only after the allocation was cancelled: the upload is refused. */
  async function refusedRunOn(c: Cluster, runner: Node) {
    c.local.feedServer.setDelayMs(60_000);
    const run = await dispatchTo(c, runner);
    const child = startChild(c.local, runner, runner.name, { maxConcurrency: 1, once: true });
    const [executing] = await waitFor(`${runner.name} executing`, async () => {
      const rows = (await allocations(c.local, run.schedule_run_id)).filter((r) => r.status === 'executing');
      return rows.length === 1 ? rows : undefined;
    });
    await c.local.api.call('POST', `/api/v1/cascade/allocations/${executing!.id}/cancel`);
    c.local.feedServer.setDelayMs(0); // releases the held answer
    expect((await child.exited).code).toBe(0);
    expect(await storedArticles(c.local)).toEqual([]);
    expect(c.local.feedServer.hits.get(`feeds/${FIXTURE}`)).toBeGreaterThan(0);
  }
});
