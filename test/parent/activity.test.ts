import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type Activity = {
  allocations_by_status: Record<string, number>;
  finished_per_minute: Array<{ minute: string; completed: number; failed: number }>;
  feeds_by_freshness: { fresh: number; recent: number; stale: number; outdated: number; unknown: number };
  cron: Array<{ task_id: string; cron_exp: string; next_runs: string[]; error?: string }>;
};
type Claimed = { allocation_id: string; attempt: number; feeds: Array<{ id: string }> };

describeEachStore('console overview and article search', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.max_attempts': 1 },
    });
  });
  afterAll(async () => t?.close());

  it('counts finished work per minute, allocations by status, feeds by freshness and next cron runs', async () => {
    const { store } = t.parent.services;
    const child = await t.addChild('worker', { max_capacity: 10 });
    await api(t.url, '/api/v1/cascade/heartbeat', { method: 'POST', aksk: child, json: {} });
    const feeds = await seedFeeds(store, 3, 'ACT_');
    const nowSeconds = Math.floor(Date.now() / 1000);
    await databaseOf(store)
      .updateTable('feeds')
      .set({ update_time: nowSeconds - 60 })
      .where('id', '=', 'ACT_1')
      .execute();
    await databaseOf(store)
      .updateTable('feeds')
      .set({ update_time: nowSeconds - 5 * 86400 })
      .where('id', '=', 'ACT_2')
      .execute();
    for (const [i, feed] of feeds.entries())
      await seedTask(store, [feed], {
        id: `act-task-${i}`,
        cron: i === 0 ? '*/5 * * * *' : i === 1 ? 'not a cron' : '',
      });
    const before = await api<Activity>(t.url, '/api/v1/cascade/activity', { token: t.adminToken });
    expect(before.body.data.feeds_by_freshness).toEqual({ fresh: 1, recent: 0, stale: 0, outdated: 1, unknown: 1 });
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    // Complete one, fail one (no attempts left), leave one pending.
    for (const outcome of ['complete', 'fail']) {
      const claimed = (await api<Claimed>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: child })).body
        .data;
      const base = { allocation_id: claimed.allocation_id, attempt: claimed.attempt };
      const taskId = (
        await api<{ task_id: string }>(t.url, `/api/v1/cascade/allocations/${claimed.allocation_id}`, {
          token: t.adminToken,
        })
      ).body.data.task_id;
      await api(t.url, '/api/v1/cascade/task-status', {
        method: 'PUT',
        aksk: child,
        json: { ...base, status: 'executing' },
      });
      if (outcome === 'complete')
        await api(t.url, '/api/v1/cascade/report-completion', {
          aksk: child,
          json: {
            ...base,
            task_id: taskId,
            results: claimed.feeds.map((f) => ({ mp_id: f.id, status: 'success', article_count: 0 })),
            article_count: 0,
          },
        });
      else
        await api(t.url, '/api/v1/cascade/task-status', {
          method: 'PUT',
          aksk: child,
          json: { ...base, status: 'failed', error_message: 'boom' },
        });
    }

    const asked = Date.now();
    const answer = await api<Activity>(t.url, '/api/v1/cascade/activity', { token: t.adminToken });
    const answered = Date.now();
    expect(answer.status).toBe(200);
    const data = answer.body.data;
    expect(data.allocations_by_status).toEqual({ pending: 1, completed: 1, failed: 1 });
    expect(data.finished_per_minute).toHaveLength(60);
    const last = data.finished_per_minute.at(-1);
    // The series ends at the minute the parent answered in: the start of the minute of some instant while the
    // request was in flight, however long it took.
    const minuteOf = (ms: number) => new Date(ms - (ms % 60_000)).toISOString();
    expect([minuteOf(asked), minuteOf(answered)]).toContain(last?.minute);
    const sums = data.finished_per_minute.reduce(
      (acc, m) => ({ completed: acc.completed + m.completed, failed: acc.failed + m.failed }),
      { completed: 0, failed: 0 },
    );
    expect(sums).toEqual({ completed: 1, failed: 1 });
    // The completed feed just became fresh.
    expect(data.feeds_by_freshness.fresh + data.feeds_by_freshness.outdated + data.feeds_by_freshness.unknown).toBe(3);
    expect(data.feeds_by_freshness.fresh).toBeGreaterThanOrEqual(1);
    const good = data.cron.find((c) => c.task_id === 'act-task-0');
    expect(good?.next_runs).toHaveLength(3);
    expect(good?.next_runs.every((r) => Date.parse(r) > Date.now() && new Date(r).getUTCMinutes() % 5 === 0)).toBe(
      true,
    );
    const bad = data.cron.find((c) => c.task_id === 'act-task-1');
    expect(bad).toMatchObject({ next_runs: [] });
    expect(bad?.error).toBeTruthy();
    expect(data.cron.some((c) => c.task_id === 'act-task-2')).toBe(false);

    // The console's allocation filter by feed.
    const byFeed = await api<{ list: Array<{ feed_ids: string[] }>; total: number }>(
      t.url,
      '/api/v1/cascade/allocations?feed_id=ACT_2',
      { token: t.adminToken },
    );
    expect(byFeed.body.data.total).toBe(1);
    expect(byFeed.body.data.list[0]?.feed_ids).toEqual(['ACT_2']);
    expect(
      (await api<{ total: number }>(t.url, '/api/v1/cascade/allocations?feed_id=NOPE', { token: t.adminToken })).body
        .data.total,
    ).toBe(0);

    const shorter = await api<Activity>(t.url, '/api/v1/cascade/activity?minutes=5', { token: t.adminToken });
    expect(shorter.body.data.finished_per_minute).toHaveLength(5);
    expect((await api(t.url, '/api/v1/cascade/activity?minutes=0', { token: t.adminToken })).status).toBe(400);
  });

  it('searches article titles case-insensitively, % and _ literally', async () => {
    const { store } = t.parent.services;
    const now = Date.now();
    const article = (id: string, title: string, publish: number) => ({
      id,
      mp_id: 'ACT_1',
      title,
      url: `http://127.0.0.1/${id}`,
      pic_url: '',
      description: '',
      content: '',
      content_markdown: '',
      publish_time: publish,
      allocation_id: null,
      node_id: null,
      created_at: now,
      updated_at: now,
    });
    await databaseOf(store)
      .insertInto('articles')
      .values([article('a1', 'Rust Weekly 100%', 3), article('a2', 'rust_news', 2), article('a3', 'Go weekly', 1)])
      .execute();
    const search = async (q: string) =>
      (
        await api<{ list: Array<{ id: string }> }>(t.url, `/api/v1/articles?search=${encodeURIComponent(q)}`, {
          token: t.adminToken,
        })
      ).body.data.list.map((a) => a.id);
    expect(await search('RUST')).toEqual(['a1', 'a2']);
    expect(await search('100%')).toEqual(['a1']);
    expect(await search('_')).toEqual(['a2']);
    expect(await search('weekly')).toEqual(['a1', 'a3']);
  });
});
