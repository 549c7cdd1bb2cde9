import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import type { MessageTaskView } from '../../src/store/message-tasks.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

type Page<T> = { list: T[]; total: number };

describeEachStore('message task management', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    for (const id of ['MP_WXS_1', 'MP_WXS_2']) {
      const response = await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id, mp_name: id } });
      if (response.status !== 200) throw new Error(JSON.stringify(response.body));
    }
  });
  afterAll(async () => t?.close());

  const taskBody = {
    name: 'morning digest',
    message_type: 1,
    message_template: 'Hello {{title}}',
    web_hook_url: 'https://hooks.example/x',
    headers: { 'User-Agent': 'cascade-test', Referer: 'https://mp.example' },
    cookies: 'sid=abc; lang=zh',
    mps_id: [
      { id: 'MP_WXS_1', mp_name: 'First', mp_cover: 'c.png' },
      { id: 'MP_WXS_2', mp_name: 'Second' },
    ],
    cron_exp: '*/30 * * * *',
  };

  it('creates a task keeping extra keys in mps_id, with headers and cookies in the management view', async () => {
    const created = await api<MessageTaskView>(t.url, '/api/v1/message-tasks', { token: t.adminToken, json: taskBody });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ ...taskBody, status: 1 });
    // A webhook task gets a signing secret, shown in this answer only.
    const { webhook_secret: secret, ...withoutSecret } = created.body.data;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(created.body.data.webhook_secret_set).toBe(true);
    const shown = await api<MessageTaskView>(t.url, `/api/v1/message-tasks/${created.body.data.id}`, {
      token: t.adminToken,
    });
    expect(shown.body.data).toEqual(withoutSecret);
    const listed = await api<Page<MessageTaskView>>(t.url, '/api/v1/wx/message-tasks', { token: t.adminToken });
    expect(listed.body.data.list).toEqual([withoutSecret]);
  });

  it('accepts 6-field and empty cron expressions and defaults the optional fields', async () => {
    const six = await api<MessageTaskView>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'six', cron_exp: '0 */5 * * * *' },
    });
    expect(six.status).toBe(200);
    const none = await api<MessageTaskView>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'manual' },
    });
    expect(none.status).toBe(200);
    expect(none.body.data).toMatchObject({
      name: 'manual',
      message_type: 0,
      headers: {},
      cookies: '',
      mps_id: [],
      cron_exp: '',
      status: 1,
    });
  });

  it.each([
    ['four fields', '* * * *', /5 fields/],
    ['seven fields', '0 0 0 * * * *', /got 7/],
    ['out of range', '61 * * * *', /minute/],
    ['never fires', '0 0 30 2 *', /never fires/],
    ['nonsense', 'every day', /2/],
  ])('rejects a cron expression with %s', async (_label, cron_exp, pattern) => {
    const response = await api(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'bad cron', cron_exp },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('VALIDATION_FAILED');
    expect(response.body.details).toHaveLength(1);
    expect(response.body.details?.[0]?.path).toBe('cron_exp');
    expect(response.body.details?.[0]?.message).toMatch(pattern);
  });

  it.each([
    ['a header value with a line break', { headers: { 'X-A': 'ok\r\nX-Injected: 1' } }, 'headers.X-A'],
    ['a header name with a space', { headers: { 'Bad Name': 'v' } }, 'headers.Bad Name'],
    ['cookies with a line break', { cookies: 'a=1\nb=2' }, 'cookies'],
    ['a non-http webhook', { web_hook_url: 'ftp://hooks.example/x' }, 'web_hook_url'],
  ])('rejects %s', async (_label, fields, path) => {
    const response = await api(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'unsafe', ...fields },
    });
    expect(response.status).toBe(400);
    expect(response.body.details?.map((d) => d.path)).toContain(path);
  });

  it('rejects unknown feed ids, listing every one in the message and the details, and stores nothing', async () => {
    const before = await api<Page<MessageTaskView>>(t.url, '/api/v1/message-tasks', { token: t.adminToken });
    const response = await api(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: {
        name: 'ghost feeds',
        mps_id: [{ id: 'MP_WXS_1' }, { id: 'GHOST_A' }, { id: 'MP_WXS_2' }, { id: 'GHOST_B' }],
        cron_exp: 'nope',
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('VALIDATION_FAILED');
    expect(response.body.message).toContain('GHOST_A');
    expect(response.body.message).toContain('GHOST_B');
    expect(response.body.details).toEqual([
      { path: 'cron_exp', message: expect.any(String) as string },
      { path: 'mps_id.1.id', message: "unknown feed id 'GHOST_A'" },
      { path: 'mps_id.3.id', message: "unknown feed id 'GHOST_B'" },
    ]);
    const after = await api<Page<MessageTaskView>>(t.url, '/api/v1/message-tasks', { token: t.adminToken });
    expect(after.body.data).toEqual(before.body.data);
  });

  it('updates, validating the new feeds and cron, and deletes', async () => {
    const created = await api<MessageTaskView>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'to edit', mps_id: [{ id: 'MP_WXS_1' }] },
    });
    const id = created.body.data.id;
    const rejected = await api(t.url, `/api/v1/message-tasks/${id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { mps_id: [{ id: 'NOPE' }] },
    });
    expect(rejected.status).toBe(400);
    expect(
      (await api<MessageTaskView>(t.url, `/api/v1/message-tasks/${id}`, { token: t.adminToken })).body.data,
    ).toEqual(created.body.data);

    const updated = await api<MessageTaskView>(t.url, `/api/v1/message-tasks/${id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { status: 0, cron_exp: '0 8 * * 1-5', headers: { Accept: 'application/rss+xml' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({
      name: 'to edit',
      status: 0,
      cron_exp: '0 8 * * 1-5',
      headers: { Accept: 'application/rss+xml' },
      mps_id: [{ id: 'MP_WXS_1' }],
    });
    const disabled = await api<Page<MessageTaskView>>(t.url, '/api/v1/message-tasks?status=0', { token: t.adminToken });
    expect(disabled.body.data.list.map((task) => task.id)).toEqual([id]);

    expect((await api(t.url, `/api/v1/message-tasks/${id}`, { method: 'DELETE', token: t.adminToken })).status).toBe(
      200,
    );
    expect((await api(t.url, `/api/v1/message-tasks/${id}`, { token: t.adminToken })).status).toBe(404);
  });

  it('offers the dispatcher the task record and the enabled tasks', async () => {
    const { tasks } = t.parent.services.store;
    const enabled = await tasks.listEnabled();
    expect(enabled.length).toBeGreaterThan(0);
    expect(enabled.every((task) => task.enabled)).toBe(true);
    const first = enabled[0];
    if (!first) throw new Error('no enabled task');
    expect(await tasks.get(first.id)).toEqual(first);
  });
});
