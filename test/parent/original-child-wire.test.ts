import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { OriginalChildClient, pythonTimestamp } from '../helpers/original-child.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { snapshot } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type Pkg = { allocation_id: string; task_id: string; feeds: Array<{ id: string }>; headers: unknown; cookies: unknown };
type Allocation = {
  id: string;
  status: string;
  attempt: number;
  article_count: number;
  new_article_count: number;
  error_message: string | null;
  result_summary: unknown;
};

const PREFIXES = ['/api/v1/wx/cascade', '/api/v1/cascade'] as const;

/**
 * Issue 10: the requests the original Python child sends, byte for byte (see helpers/original-child.ts), against a
 * real parent on both prefixes and every store; each answer and the stored state are checked. Each of the original's
 * two loops takes a whole task from pending to completed with its articles stored.
 */
describeEachStore('the original Python child against a Cascade parent', (dialect) => {
  let t: TestParent;
  let run = 0;
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.feeds_per_allocation': 2, 'dispatch.retry_backoff_seconds': 0 },
    });
  });
  afterAll(async () => t?.close());

  /** A fresh node, `count` feeds and one task over them (with headers and no cookies, as the UI stores them). */
  async function scene(count: number) {
    run += 1;
    const tag = `R${run}`;
    const feedIds = Array.from({ length: count }, (_, i) => `MP_WXS_${tag}_${i + 1}`);
    for (const id of feedIds)
      await api(t.url, '/api/v1/feeds', {
        token: t.adminToken,
        json: { id, mp_name: `公众号 ${id}`, url: `http://127.0.0.1:9/${id}` },
      });
    // Earlier scenes' nodes stay online: the quota keeps this scene's work on this scene's node.
    const node = await t.addChild(`original-${tag}`, { feed_quota: Object.fromEntries(feedIds.map((id) => [id, 1])) });
    const task = await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: `task ${tag}`, headers: { 'X-Test': '1' }, mps_id: feedIds.map((id) => ({ id })) },
    });
    const dispatch = () =>
      api<{ allocations_created: number }>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task.body.data.id}`, {
        method: 'POST',
        token: t.adminToken,
      });
    return { node, feedIds, taskId: task.body.data.id, dispatch };
  }

  const allocation = async (id: string) =>
    (await api<Allocation>(t.url, `/api/v1/cascade/allocations/${id}`, { token: t.adminToken })).body.data;
  const storedArticles = (ids: string[]) =>
    databaseOf(t.parent.services.store)
      .selectFrom('articles')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();

  /** Articles as the original child uploads them: `ext` null or an object, nullable strings, a numeric-string time. */
  const originalArticles = (feedId: string, tag: string) => [
    {
      id: `${tag}-a1`,
      mp_id: feedId,
      title: '第一篇',
      url: `https://mp.example/${tag}/1`,
      pic_url: null,
      content: '<p>一</p>',
      publish_time: '1764236401',
      description: null,
      ext: null,
    },
    {
      id: `${tag}-a2`,
      mp_id: feedId,
      title: 'second',
      url: `https://mp.example/${tag}/2`,
      pic_url: 'https://img.example/2.png',
      content: null,
      publish_time: 1764236402,
      description: 'd',
      ext: { author: 'x', read_num: 3 },
    },
  ];

  it.each(PREFIXES)(
    'the periodic sync loop on %s: heartbeat, pull feeds and tasks, claim one task, run it, report form 1',
    async (prefix) => {
      const { node, feedIds, taskId, dispatch } = await scene(2);
      const child = new OriginalChildClient(t.url, prefix, node);

      const beat = await child.send('POST', '/heartbeat');
      expect(beat).toMatchObject({ status: 200, body: { code: 0, data: { status: 'alive', node_id: node.id } } });
      const nodeView = await api<{ status: number; last_heartbeat_at: string | null }>(
        t.url,
        `/api/v1/cascade/nodes/${node.id}`,
        { token: t.adminToken },
      );
      expect(nodeView.body.data).toMatchObject({ status: 1 });
      expect((await dispatch()).body.data.allocations_created).toBe(1);

      const feeds = await child.send<unknown>('GET', '/feeds');
      const tasks = await child.send<unknown>('GET', '/message-tasks');
      expect([feeds.status, tasks.status]).toEqual([200, 200]);
      if (prefix === '/api/v1/wx/cascade') {
        expect(Array.isArray(feeds.body.data)).toBe(true);
        expect((feeds.body.data as Array<{ id: string }>).map((f) => f.id)).toEqual(expect.arrayContaining(feedIds));
        const mine = (tasks.body.data as Array<Record<string, unknown>>).find((task) => task.id === taskId);
        expect(mine).toMatchObject({
          mps_id: JSON.stringify(feedIds.map((id) => ({ id }))),
          headers: JSON.stringify({ 'X-Test': '1' }),
          cookies: '',
        });
      } else {
        expect((feeds.body.data as { list: Array<{ id: string }> }).list.map((f) => f.id)).toEqual(
          expect.arrayContaining(feedIds),
        );
        expect((tasks.body.data as { list: unknown[] }).list.length).toBeGreaterThan(0);
      }

      const claim = await child.send<Pkg | null>('POST', '/claim-task');
      expect(claim.status).toBe(200);
      const pkg = claim.body.data as Pkg;
      expect(pkg.feeds.map((f) => f.id).sort()).toEqual(feedIds);
      const id = pkg.allocation_id;

      const start = await child.send('PUT', '/task-status', {
        allocation_id: id,
        status: 'executing',
        error_message: null,
        timestamp: pythonTimestamp(),
      });
      expect(start.status).toBe(200);
      const upload = await child.send('POST', '/upload-articles', {
        allocation_id: id,
        articles: originalArticles(feedIds[0] as string, `sync${run}`),
        timestamp: pythonTimestamp(),
      });
      expect(upload).toMatchObject({ status: 200, body: { code: 0, data: { received: 2, new_count: 2 } } });
      const report = await child.send('POST', '/report-completion', {
        allocation_id: id,
        task_id: pkg.task_id,
        results: [
          { mp_id: feedIds[0], mp_name: '公众号', status: 'success', article_count: 2 },
          { mp_id: feedIds[1], mp_name: '公众号', status: 'failed', error: '请求超时' },
        ],
        article_count: 2,
        timestamp: pythonTimestamp(),
      });
      expect(report).toMatchObject({ status: 200, body: { code: 0 } });

      expect(await allocation(id)).toMatchObject({
        status: 'completed',
        article_count: 2,
        new_article_count: 2,
        error_message: `${feedIds[1]}: 请求超时`,
      });
      const stored = await storedArticles([`sync${run}-a1`, `sync${run}-a2`]);
      expect(
        stored.map((a) => ({
          id: a.id,
          mp_id: a.mp_id,
          pic_url: a.pic_url,
          description: a.description,
          content: a.content,
          publish_time: Number(a.publish_time),
          ext: a.ext,
        })),
      ).toEqual([
        {
          id: `sync${run}-a1`,
          mp_id: feedIds[0],
          pic_url: '',
          description: '',
          content: '<p>一</p>',
          publish_time: 1764236401,
          ext: null,
        },
        {
          id: `sync${run}-a2`,
          mp_id: feedIds[0],
          pic_url: 'https://img.example/2.png',
          description: 'd',
          content: '',
          publish_time: 1764236402,
          ext: JSON.stringify({ author: 'x', read_num: 3 }),
        },
      ]);
      const listed = await api<{ list: Array<{ id: string; ext: unknown }> }>(
        t.url,
        `/api/v1/articles?mp_id=${feedIds[0]}`,
        { token: t.adminToken },
      );
      expect(listed.body.data.list.find((a) => a.id === `sync${run}-a2`)?.ext).toEqual({ author: 'x', read_num: 3 });
    },
  );

  it.each(PREFIXES)(
    'the task worker loop on %s: pending-tasks?limit=1 claims one package at a time, report form 2 and "completed"',
    async (prefix) => {
      const { node, feedIds, dispatch } = await scene(4);
      const child = new OriginalChildClient(t.url, prefix, node);
      expect(
        (
          await child.send('POST', '/heartbeat', {
            callback_url: 'http://127.0.0.1:9/callback',
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      expect((await dispatch()).body.data.allocations_created).toBe(2);

      const pending = async (): Promise<Pkg | null> => {
        const answer = await child.send<Pkg | { list: Pkg[] } | null>('GET', '/pending-tasks?limit=1');
        expect(answer.status).toBe(200);
        if (prefix === '/api/v1/wx/cascade') {
          // One package object or null, never a list.
          if (answer.body.data !== null) expect(answer.body.data).toHaveProperty('allocation_id');
          return answer.body.data as Pkg | null;
        }
        return (answer.body.data as { list: Pkg[] }).list[0] ?? null;
      };

      const first = await pending();
      expect(first?.feeds).toHaveLength(2);
      // Only the package the child saw was claimed: the other allocation still waits.
      const live = await api<{ list: Allocation[] }>(t.url, `/api/v1/cascade/allocations?node_id=${node.id}`, {
        token: t.adminToken,
      });
      expect(live.body.data.list.map((a) => a.status).sort()).toEqual(['claimed', 'pending']);

      const firstId = (first as Pkg).allocation_id;
      const firstFeeds = (first as Pkg).feeds.map((f) => f.id);
      expect(
        (
          await child.send('PUT', '/task-status', {
            allocation_id: firstId,
            status: 'executing',
            error_message: null,
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      const articles = originalArticles(firstFeeds[0] as string, `worker${run}`);
      expect(
        (
          await child.send('POST', '/upload-articles', {
            allocation_id: firstId,
            articles,
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      const report = await child.send('POST', '/report-completion', {
        allocation_id: firstId,
        task_id: (first as Pkg).task_id,
        results: [
          { feed_id: firstFeeds[0], mp_name: 'a', success: true, article_count: 2, new_article_count: 2, error: null },
          {
            feed_id: firstFeeds[1],
            mp_name: 'b',
            success: false,
            article_count: 0,
            new_article_count: 0,
            error: 'HTTP 503',
          },
        ],
        article_count: 2,
        timestamp: pythonTimestamp(),
      });
      expect(report.status).toBe(200);
      const done = await allocation(firstId);
      expect(done).toMatchObject({ status: 'completed', article_count: 2, new_article_count: 2 });
      expect(done.result_summary).toMatchObject({ failed_feeds: 1, succeeded_feeds: 1 });

      const second = await pending();
      expect(second).not.toBeNull();
      const secondId = (second as Pkg).allocation_id;
      expect(
        (
          await child.send('PUT', '/task-status', {
            allocation_id: secondId,
            status: 'executing',
            error_message: null,
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      const finish = await child.send('PUT', '/task-status', {
        allocation_id: secondId,
        status: 'completed',
        error_message: null,
        timestamp: pythonTimestamp(),
      });
      expect(finish.status).toBe(200);
      expect((await allocation(secondId)).status).toBe('completed');
      expect(await pending()).toBeNull();
      expect((await storedArticles(articles.map((a) => a.id))).map((a) => a.id)).toEqual([
        `worker${run}-a1`,
        `worker${run}-a2`,
      ]);
      expect(feedIds).toEqual(expect.arrayContaining([...firstFeeds, ...(second as Pkg).feeds.map((f) => f.id)]));
    },
  );

  it.each(PREFIXES)(
    'on %s a failure is retried and finished with "completed"; report-result is kept as a sync log',
    async (prefix) => {
      const { node, dispatch } = await scene(1);
      const child = new OriginalChildClient(t.url, prefix, node);
      await child.send('POST', '/heartbeat');
      await dispatch();
      const pkg = (await child.send<Pkg>('POST', '/claim-task')).body.data;
      // The stock original child's heartbeat is empty; it still extends the lease of what the node holds.
      const beat = await child.send<{ leases_extended: number }>('POST', '/heartbeat');
      expect(beat).toMatchObject({ status: 200, body: { data: { leases_extended: 1 } } });
      expect(
        (
          await child.send('PUT', '/task-status', {
            allocation_id: pkg.allocation_id,
            status: 'executing',
            error_message: null,
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      const failed = await child.send('PUT', '/task-status', {
        allocation_id: pkg.allocation_id,
        status: 'failed',
        error_message: 'feed 请求失败',
        timestamp: pythonTimestamp(),
      });
      expect(failed.status).toBe(200);
      expect(await allocation(pkg.allocation_id)).toMatchObject({
        status: 'pending',
        attempt: 2,
        error_message: 'feed 请求失败',
      });
      // The same failure sent again (the original retries a call whose answer it did not get): 2xx, nothing changes.
      const before = await snapshot(t.parent.services.store);
      const repeated = await child.send('PUT', '/task-status', {
        allocation_id: pkg.allocation_id,
        status: 'failed',
        error_message: 'feed 请求失败',
        timestamp: pythonTimestamp(),
      });
      expect(repeated).toMatchObject({ status: 200, body: { code: 0, data: { status: 'pending', attempt: 2 } } });
      expect(await snapshot(t.parent.services.store)).toEqual(before);

      // The retry: claimed again (from the pool), and this time finished with the docstring's "completed", no executing.
      const again = (await child.send<Pkg>('POST', '/claim-task')).body.data;
      expect(again.allocation_id).toBe(pkg.allocation_id);
      expect(
        (
          await child.send('PUT', '/task-status', {
            allocation_id: again.allocation_id,
            status: 'completed',
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      expect(await allocation(pkg.allocation_id)).toMatchObject({ status: 'completed', attempt: 2 });

      const legacy = await child.send('POST', '/report-result', {
        task_id: pkg.task_id,
        results: [{ mp_id: pkg.feeds[0]?.id, status: 'success', article_count: 0 }],
        timestamp: pythonTimestamp(),
      });
      expect(legacy).toMatchObject({ status: 200, body: { code: 0, data: null } });
      const logs = await api<{ list: Array<{ extra_data: { task_id: string } }> }>(
        t.url,
        `/api/v1/cascade/sync-logs?node_id=${node.id}&operation=report_result`,
        { token: t.adminToken },
      );
      expect(logs.body.data.list.map((log) => log.extra_data.task_id)).toEqual([pkg.task_id]);
    },
  );

  it.each(PREFIXES)(
    'on %s real type errors still get 400 and change nothing; one odd result item never refuses a completion',
    async (prefix) => {
      const { node, feedIds, dispatch } = await scene(1);
      const child = new OriginalChildClient(t.url, prefix, node);
      await child.send('POST', '/heartbeat');
      await dispatch();
      const pkg = (await child.send<Pkg>('POST', '/claim-task')).body.data;
      await child.send('PUT', '/task-status', {
        allocation_id: pkg.allocation_id,
        status: 'executing',
        error_message: null,
        timestamp: pythonTimestamp(),
      });

      const before = await snapshot(t.parent.services.store);
      const refusals = [
        await child.send('POST', '/upload-articles', {
          allocation_id: 12345,
          articles: [],
          timestamp: pythonTimestamp(),
        }),
        await child.send('POST', '/upload-articles', {
          allocation_id: pkg.allocation_id,
          articles: 'none',
          timestamp: pythonTimestamp(),
        }),
        await child.send('POST', '/report-completion', {
          allocation_id: pkg.allocation_id,
          task_id: pkg.task_id,
          results: 'all good',
          timestamp: pythonTimestamp(),
        }),
        await child.send('PUT', '/task-status', {
          allocation_id: pkg.allocation_id,
          status: 'running',
          timestamp: pythonTimestamp(),
        }),
        await child.send('POST', '/heartbeat', { callback_url: 42 }),
      ];
      expect(refusals.map((r) => [r.status, r.body.error])).toEqual(refusals.map(() => [400, 'VALIDATION_FAILED']));
      expect(await snapshot(t.parent.services.store)).toEqual(before);

      const report = await child.send('POST', '/report-completion', {
        allocation_id: pkg.allocation_id,
        task_id: pkg.task_id,
        results: [
          'not an object',
          { mp_name: 'no feed id' },
          { mp_id: feedIds[0], status: 'success', article_count: '3', extra: [1] },
        ],
        article_count: '3',
        timestamp: pythonTimestamp(),
      });
      expect(report.status).toBe(200);
      expect(await allocation(pkg.allocation_id)).toMatchObject({ status: 'completed', article_count: 3 });
    },
  );
});
