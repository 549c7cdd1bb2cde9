import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask, snapshot } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type Pkg = { allocation_id: string; task_id: string; feeds: Array<{ id: string }> };

describeEachStore('child work API: articles and completion', (dialect) => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  let pkg: Pkg;
  let feeds: string[];
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.feeds_per_allocation': 2 },
    });
    feeds = await seedFeeds(t.parent.services.store, 2);
    await seedTask(t.parent.services.store, feeds);
    node = await t.addChild('worker');
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    pkg = (await api<Pkg>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: node })).body.data;
    await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: { allocation_id: pkg.allocation_id, status: 'executing', timestamp: '2026-11-27T09:30:00.123456' },
    });
  });
  afterAll(async () => t?.close());

  const article = (id: string, mp_id: string) => ({
    id,
    mp_id,
    title: `T ${id}`,
    url: `https://example.com/${id}`,
    publish_time: 1_700_000_000,
  });

  it('upserts articles by id and counts only new ones', async () => {
    const first = await api<{ received: number; new_count: number }>(t.url, '/api/v1/cascade/upload-articles', {
      aksk: node,
      json: { allocation_id: pkg.allocation_id, articles: [article('a1', feeds[0]!), article('a2', feeds[1]!)] },
    });
    expect(first.body.data).toEqual({ received: 2, new_count: 2 });
    const again = await api<{ received: number; new_count: number }>(t.url, '/api/v1/cascade/upload-articles', {
      aksk: node,
      json: { allocation_id: pkg.allocation_id, articles: [article('a1', feeds[0]!), article('a3', feeds[0]!)] },
    });
    expect(again.body.data).toEqual({ received: 2, new_count: 1 });
    const listed = await api<{ total: number; list: Array<{ id: string }> }>(
      t.url,
      `/api/v1/articles?mp_id=${feeds[0]}`,
      { token: t.adminToken },
    );
    expect(listed.body.data.list.map((a) => a.id).sort()).toEqual(['a1', 'a3']);
  });

  it("keeps a feed's article when an upload for another feed reuses its id", async () => {
    const store = t.parent.services.store;
    const upload = (articles: object[]) =>
      api<{ received: number; new_count: number }>(t.url, '/api/v1/cascade/upload-articles', {
        aksk: node,
        json: { allocation_id: pkg.allocation_id, articles },
      });
    await upload([{ ...article('shared-id', feeds[0]!), title: 'F1 original' }]);
    const countsBefore = (await store.feeds.list({}, 10, 0)).list.map((f) => [f.id, f.article_count]);
    const hijack = await upload([
      { ...article('shared-id', feeds[1]!), title: 'written through F2', url: 'https://attacker.example/' },
    ]);
    expect(hijack.status).toBe(200);
    expect(hijack.body.data).toEqual({ received: 1, new_count: 1 });
    const byFeed = async (feedId: string) =>
      (
        await api<{ list: Array<{ id: string; mp_id: string; title: string; url: string }> }>(
          t.url,
          `/api/v1/articles?mp_id=${feedId}&limit=100`,
          { token: t.adminToken },
        )
      ).body.data.list.filter((a) => a.id === 'shared-id');
    expect(await byFeed(feeds[0]!)).toEqual([
      expect.objectContaining({ mp_id: feeds[0], title: 'F1 original', url: 'https://example.com/shared-id' }),
    ]);
    expect(await byFeed(feeds[1]!)).toEqual([
      expect.objectContaining({ mp_id: feeds[1], title: 'written through F2' }),
    ]);
    // F2 gained one article of its own; F1 lost none.
    const countsAfter = new Map((await store.feeds.list({}, 10, 0)).list.map((f) => [f.id, f.article_count]));
    const before = new Map(countsBefore as Array<[string, number]>);
    expect(countsAfter.get(feeds[0]!)).toBe(before.get(feeds[0]!));
    expect(countsAfter.get(feeds[1]!)).toBe((before.get(feeds[1]!) ?? 0) + 1);
  });

  it.each([
    ['an article of a feed outside the allocation', { articles: [article('x', 'MP_OTHER')] }, 400, 'VALIDATION_FAILED'],
    [
      'more than 1,000 articles',
      { articles: Array.from({ length: 1001 }, (_, i) => article(`b${i}`, 'MP_WXS_1')) },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a body over 2 MiB',
      { articles: [{ ...article('big', 'MP_WXS_1'), content: 'x'.repeat(2.2 * 1024 * 1024) }] },
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['an unknown field', { articles: [], colour: 'red' }, 400, 'VALIDATION_FAILED'],
    ['a wrong type', { articles: 'none' }, 400, 'VALIDATION_FAILED'],
  ])('rejects %s and stores nothing', async (_name, body, status, error) => {
    const before = await snapshot(t.parent.services.store);
    const response = await api(t.url, '/api/v1/cascade/upload-articles', {
      aksk: node,
      json: { allocation_id: pkg.allocation_id, ...body },
    });
    expect(response.status).toBe(status);
    expect(response.body.error).toBe(error);
    expect(await snapshot(t.parent.services.store)).toEqual(before);
  });

  it('rejects bad child requests with a 4xx envelope and no change', async () => {
    const store = t.parent.services.store;
    const cases: Array<[string, string, Parameters<typeof api>[2], number]> = [
      ['PUT', '/api/v1/cascade/task-status', { rawBody: '{"allocation_id":', contentType: 'application/json' }, 400],
      ['PUT', '/api/v1/cascade/task-status', { json: { status: 'executing' } }, 400],
      ['PUT', '/api/v1/cascade/task-status', { json: { allocation_id: pkg.allocation_id, status: 'done' } }, 400],
      ['PUT', '/api/v1/cascade/task-status', { json: { allocation_id: 'does-not-exist', status: 'executing' } }, 404],
      ['POST', '/api/v1/cascade/report-completion', { json: { allocation_id: pkg.allocation_id, results: [] } }, 400],
      [
        'POST',
        '/api/v1/cascade/report-completion',
        {
          json: {
            allocation_id: pkg.allocation_id,
            task_id: pkg.task_id,
            results: [{ mp_id: 'MP_OTHER', status: 'success', article_count: 1 }],
          },
        },
        400,
      ],
      ['POST', '/api/v1/cascade/claim-task?wait=61', {}, 400],
      ['POST', '/api/v1/cascade/claim-task?max=abc', {}, 400],
      ['POST', '/api/v1/cascade/heartbeat', { json: { callback_url: 'ftp://nope' } }, 400],
      ['POST', '/api/v1/cascade/heartbeat', { json: { current_tasks: -1 } }, 400],
      ['GET', '/api/v1/cascade/pending-tasks?limit=0', {}, 400],
    ];
    for (const [method, path, options, status] of cases) {
      const before = await snapshot(store);
      const response = await api(t.url, path, { ...options, method, aksk: node });
      expect({ path, status: response.status, envelope: response.body.code }).toEqual({
        path,
        status,
        envelope: status,
      });
      expect(typeof response.body.error).toBe('string');
      expect(await snapshot(store)).toEqual(before);
    }
  });

  it('completes with per-feed results, sums counts, and a repeat is harmless', async () => {
    const body = {
      allocation_id: pkg.allocation_id,
      task_id: pkg.task_id,
      results: [
        { mp_id: feeds[0], status: 'success', article_count: 2, new_article_count: 2 },
        { mp_id: feeds[1], status: 'failed', article_count: 0, error: 'HTTP 500 from upstream' },
      ],
      article_count: 2,
      timestamp: '2026-11-27T09:31:00',
    };
    const done = await api<{ status: string; article_count: number; new_article_count: number; error_message: string }>(
      t.url,
      '/api/v1/wx/cascade/report-completion',
      { aksk: node, json: body },
    );
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({
      status: 'completed',
      article_count: 2,
      new_article_count: 2,
      error_message: `${feeds[1]}: HTTP 500 from upstream`,
    });
    const before = await snapshot(t.parent.services.store);
    const repeat = await api<{ status: string }>(t.url, '/api/v1/cascade/report-completion', {
      aksk: node,
      json: body,
    });
    expect(repeat.body.data.status).toBe('completed');
    expect(await snapshot(t.parent.services.store)).toEqual(before);
    const feedRows = await databaseOf(t.parent.services.store)
      .selectFrom('feeds')
      .select(['id', 'update_time', 'article_count'])
      .orderBy('id')
      .execute();
    expect(feedRows[0]?.update_time).toBeGreaterThan(0);
    expect(feedRows[1]?.update_time).toBeNull();
    const logs = await databaseOf(t.parent.services.store).selectFrom('sync_logs').selectAll().execute();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ operation: 'report_completion', direction: 'push', status: 1, data_count: 2 });
  });
});
