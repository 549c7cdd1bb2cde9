import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import type { FeedView } from '../../src/store/feeds.js';
import type { SyncLogView } from '../../src/store/sync-logs.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

type Page<T> = { list: T[]; total: number; page: { limit: number; offset: number } };

describeEachStore('child read-only sync and legacy report-result', (dialect) => {
  let t: TestParent;
  let child: { id: string; api_key: string; api_secret: string };
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    child = await t.addChild('sync-child');
    for (const [id, status] of [
      ['ON_1', 1],
      ['OFF_1', 0],
      ['ON_2', 1],
    ] as const) {
      await api(t.url, '/api/v1/feeds', {
        token: t.adminToken,
        json: { id, mp_name: id, status, url: `http://127.0.0.1:9/${id}` },
      });
    }
    const task = (name: string, status: number) => ({
      name,
      status,
      headers: { Authorization: 'Bearer upstream-token' },
      cookies: 'session=top-secret-cookie',
      mps_id: [{ id: 'ON_1' }],
      cron_exp: '*/10 * * * *',
    });
    await api(t.url, '/api/v1/message-tasks', { token: t.adminToken, json: task('enabled task', 1) });
    await api(t.url, '/api/v1/message-tasks', { token: t.adminToken, json: task('disabled task', 0) });
  });
  afterAll(async () => t?.close());

  it('lists only enabled feeds, on both prefixes, and records the sync time', async () => {
    const feeds = await api<Page<FeedView>>(t.url, '/api/v1/cascade/feeds', { aksk: child });
    expect(feeds.status).toBe(200);
    expect(feeds.body.data.list.map((f) => f.id)).toEqual(['ON_1', 'ON_2']);
    expect(feeds.body.data.total).toBe(2);
    // The original child reads `data` as a bare array of every enabled feed (issue 10).
    const legacy = await api<FeedView[]>(t.url, '/api/v1/wx/cascade/feeds', { aksk: child });
    expect(legacy.body.data).toEqual(feeds.body.data.list);
    const node = await api<{ last_sync_at: string | null }>(t.url, `/api/v1/cascade/nodes/${child.id}`, {
      token: t.adminToken,
    });
    expect(node.body.data.last_sync_at).not.toBeNull();
  });

  it('lists only enabled tasks and never their headers or cookies', async () => {
    const tasks = await api<Page<Record<string, unknown>>>(t.url, '/api/v1/cascade/message-tasks', { aksk: child });
    expect(tasks.status).toBe(200);
    expect(tasks.body.data.list.map((task) => task.name)).toEqual(['enabled task']);
    const first = tasks.body.data.list[0];
    expect(first).toMatchObject({ mps_id: [{ id: 'ON_1' }], cron_exp: '*/10 * * * *', status: 1 });
    expect(first).not.toHaveProperty('headers');
    expect(first).not.toHaveProperty('cookies');
    const text = JSON.stringify(tasks.body);
    expect(text).not.toContain('upstream-token');
    expect(text).not.toContain('top-secret-cookie');
  });

  it('answers the original child on /api/v1/wx with a bare array of enabled tasks, mps_id, headers and cookies as JSON text', async () => {
    const tasks = await api<Array<Record<string, unknown>>>(t.url, '/api/v1/wx/cascade/message-tasks', { aksk: child });
    expect(tasks.status).toBe(200);
    expect(tasks.body.data.map((task) => task.name)).toEqual(['enabled task']);
    expect(tasks.body.data[0]).toMatchObject({
      mps_id: JSON.stringify([{ id: 'ON_1' }]),
      headers: JSON.stringify({ Authorization: 'Bearer upstream-token' }),
      cookies: 'session=top-secret-cookie',
      cron_exp: '*/10 * * * *',
      status: 1,
    });
  });

  it('stores a legacy report-result with a zone-less Python timestamp as a sync log', async () => {
    const results = [
      { mp_id: 'ON_1', status: 'success', article_count: 3 },
      { mp_id: 'ON_2', status: 'failed', error: 'timeout' },
    ];
    const response = await api(t.url, '/api/v1/wx/cascade/report-result', {
      aksk: child,
      json: { task_id: 'T1', results, timestamp: '2026-11-27T09:30:00.123456' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ code: 0, data: null });

    const logs = await api<Page<SyncLogView>>(
      t.url,
      `/api/v1/cascade/sync-logs?node_id=${child.id}&operation=report_result`,
      { token: t.adminToken },
    );
    expect(logs.status).toBe(200);
    expect(logs.body.data.total).toBe(1);
    expect(logs.body.data.list[0]).toMatchObject({
      node_id: child.id,
      operation: 'report_result',
      direction: 'push',
      status: 2,
      data_count: 2,
      error_message: '1 of 2 results failed',
      extra_data: { task_id: 'T1', results, timestamp: '2026-11-27T09:30:00.123456' },
      started_at: '2026-11-27T09:30:00.123Z',
    });
  });

  it('accepts timestamps with a zone or none at all, and rejects impossible dates', async () => {
    const zoned = await api(t.url, '/api/v1/cascade/report-result', {
      aksk: child,
      json: { task_id: 'T2', results: [], timestamp: '2026-11-27T17:30:00+08:00' },
    });
    expect(zoned.status).toBe(200);
    const bare = await api(t.url, '/api/v1/cascade/report-result', {
      aksk: child,
      json: { task_id: 'T3', results: [{ mp_id: 'ON_1', status: 'success' }] },
    });
    expect(bare.status).toBe(200);
    const impossible = await api(t.url, '/api/v1/cascade/report-result', {
      aksk: child,
      json: { task_id: 'T4', results: [], timestamp: '2026-02-30T10:00:00' },
    });
    expect(impossible.status).toBe(400);
    expect(impossible.body.details).toEqual([{ path: 'timestamp', message: 'is not a real date and time' }]);
    const badFormat = await api(t.url, '/api/v1/cascade/report-result', {
      aksk: child,
      json: { task_id: 'T4', results: [], timestamp: 'yesterday' },
    });
    expect(badFormat.status).toBe(400);

    const logs = await api<Page<SyncLogView>>(t.url, '/api/v1/cascade/sync-logs?operation=report_result', {
      token: t.adminToken,
    });
    expect(logs.body.data.total).toBe(3);
    const byTask = new Map(logs.body.data.list.map((log) => [(log.extra_data as { task_id: string }).task_id, log]));
    expect(byTask.get('T2')?.started_at).toBe('2026-11-27T09:30:00.000Z');
    expect(byTask.get('T3')).toMatchObject({ status: 1, data_count: 1, error_message: null });
    expect(byTask.has('T4')).toBe(false);
  });
});
