import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/delivery/message-formats.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { seedFeeds } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type TestAnswer = { receiver: string; status: number; response: string; error: string | null; delivered: boolean };

describe('message task deliveries over HTTP', () => {
  let t: TestParent;
  let receiver: Receiver;
  let feedId: string;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false } });
    receiver = await startReceiver((request) =>
      request.path === '/fails'
        ? { status: 503, body: 'down' }
        : { status: 200, body: '{"errcode":0,"errmsg":"ok","code":0}' },
    );
    feedId = (await seedFeeds(t.parent.services.store, 1, 'MP_DLV_'))[0]!;
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function taskSending(body: Record<string, unknown>): Promise<string> {
    const created = await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'Daily 日报', mps_id: [{ id: feedId }], ...body },
    });
    expect(created.status).toBe(200);
    return created.body.data.id;
  }

  async function testDelivery(taskId: string) {
    const before = receiver.received.length;
    const answer = await api<TestAnswer>(t.url, `/api/v1/message-tasks/${taskId}/test-delivery`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(answer.status).toBe(200);
    expect(receiver.received.length).toBe(before + 1);
    const request = receiver.received[before]!;
    expect(request.method).toBe('POST');
    const json = request.headers['content-type']?.startsWith('application/json')
      ? (JSON.parse(request.body) as Record<string, unknown>)
      : {};
    return { answer: answer.body.data, request, json };
  }

  it('WeCom: a markdown message', async () => {
    const { answer, json } = await testDelivery(
      await taskSending({ message_type: 0, web_hook_url: `${receiver.url}/cgi-bin/webhook/send?key=k1` }),
    );
    expect(answer).toMatchObject({ receiver: 'wecom', status: 200, delivered: true });
    expect(json).toEqual({ msgtype: 'markdown', markdown: { content: expect.stringContaining('Daily 日报') } });
  });

  it('DingTalk: a markdown message with title and text, signed in the query with the bot secret', async () => {
    const taskId = await taskSending({
      message_type: 0,
      web_hook_url: `${receiver.url}/robot/send?access_token=tok`,
      webhook_secret: 'SECdingtalk',
    });
    const sentAfter = Date.now();
    const { answer, request, json } = await testDelivery(taskId);
    const sentBefore = Date.now();
    expect(answer.receiver).toBe('dingtalk');
    expect(json).toEqual({
      msgtype: 'markdown',
      markdown: { title: expect.stringContaining('Daily 日报'), text: expect.stringContaining('Cascade') },
    });
    expect(request.query.get('access_token')).toBe('tok');
    const timestamp = request.query.get('timestamp')!;
    // The signing time in milliseconds: taken while the test delivery ran, whatever its duration.
    expect(Number(timestamp)).toBeGreaterThanOrEqual(sentAfter);
    expect(Number(timestamp)).toBeLessThanOrEqual(sentBefore);
    expect(request.query.get('sign')).toBe(
      createHmac('sha256', 'SECdingtalk').update(`${timestamp}\nSECdingtalk`).digest('base64'),
    );
  });

  it('Feishu: a post message with lines of elements, signed in the body', async () => {
    const { answer, json } = await testDelivery(
      await taskSending({
        message_type: 0,
        web_hook_url: `${receiver.url}/open-apis/bot/v2/hook/abc`,
        webhook_secret: 'feishu-secret',
        message_template: '{% for a in articles %}[{{ a.title }}]({{ a.url }})\n{% endfor %}',
      }),
    );
    expect(answer.receiver).toBe('feishu');
    expect(json.msg_type).toBe('post');
    const post = (json.content as { post: { zh_cn: { title: string; content: Array<Array<Record<string, string>>> } } })
      .post.zh_cn;
    expect(post.title).toContain('Daily 日报');
    expect(post.content[0]).toEqual([
      { tag: 'a', text: 'Cascade 测试消息 (test message)', href: 'https://example.com/cascade-test' },
    ]);
    const timestamp = String(json.timestamp);
    expect(json.sign).toBe(createHmac('sha256', `${timestamp}\nfeishu-secret`).update('').digest('base64'));
  });

  it('any other URL with message_type 0: generic JSON {title, text}', async () => {
    const { answer, json } = await testDelivery(
      await taskSending({ message_type: 0, web_hook_url: `${receiver.url}/notify` }),
    );
    expect(answer.receiver).toBe('generic');
    expect(Object.keys(json).sort()).toEqual(['text', 'title']);
  });

  it('a webhook: the rendered template as text when it is not JSON, signed with the task secret shown once', async () => {
    const created = await api<{ id: string; webhook_secret: string }>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: {
        name: 'hook',
        message_type: 1,
        web_hook_url: `${receiver.url}/hook`,
        message_template: 'new: {{ article_count }}',
        headers: { 'X-Api-Key': 'k' },
        mps_id: [{ id: feedId }],
      },
    });
    const { request, answer } = await testDelivery(created.body.data.id);
    expect(answer.receiver).toBe('webhook');
    expect(request.body).toBe('new: 1');
    expect(request.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request.headers['x-api-key']).toBe('k');
    expect(request.headers['x-cascade-delivery']).toMatch(/^test-/);
    expect(request.headers['x-cascade-signature']).toBe(
      webhookSignature(created.body.data.webhook_secret, String(request.headers['x-cascade-timestamp']), request.body),
    );
  });

  it('test-delivery answers with what a failing receiver said', async () => {
    const { answer } = await testDelivery(
      await taskSending({ message_type: 1, web_hook_url: `${receiver.url}/fails` }),
    );
    expect(answer).toMatchObject({ status: 503, response: 'down', delivered: false });
  });

  it('a template that does not parse is refused at save with 400 naming the line, and nothing is stored', async () => {
    const before = (await api<{ total: number }>(t.url, '/api/v1/message-tasks', { token: t.adminToken })).body.data
      .total;
    const bad = await api(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'bad', message_template: 'ok\n{% for a in articles %}\n{{ a.title }' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('VALIDATION_FAILED');
    expect(bad.body.details).toEqual([
      { path: 'message_template', message: expect.stringMatching(/^line 3, column 1: /) },
    ]);
    expect(
      (await api<{ total: number }>(t.url, '/api/v1/message-tasks', { token: t.adminToken })).body.data.total,
    ).toBe(before);
  });

  it('a template that includes a file is refused at save; one that loops without end is stopped when rendered', async () => {
    for (const template of ['{% include "/etc/passwd" %}', '{% render "config.yaml" %}', '{% layout "x" %}']) {
      const refused = await api(t.url, '/api/v1/message-tasks', {
        token: t.adminToken,
        json: { name: 'incl', message_template: template },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.details?.[0]?.message).toMatch(/not allowed/);
    }
    const looping = await taskSending({
      message_type: 1,
      web_hook_url: `${receiver.url}/hook`,
      message_template:
        '{% for i in (1..3000) %}{% for j in (1..3000) %}{% for k in (1..3000) %}x{% endfor %}{% endfor %}{% endfor %}',
    });
    const before = receiver.received.length;
    const answer = await api(t.url, `/api/v1/message-tasks/${looping}/test-delivery`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(answer.status).toBe(422);
    expect(answer.body.message).toMatch(/template failed/);
    expect(receiver.received.length).toBe(before);
  });

  it('lists deliveries filtered by status; redeliver refuses a pending one with 409', async () => {
    const store = t.parent.services.store;
    const taskId = await taskSending({ message_type: 1, web_hook_url: `${receiver.url}/hook` });
    const now = Date.now();
    await databaseOf(store)
      .insertInto('deliveries')
      .values({
        id: 'd-1',
        task_id: taskId,
        status: 'pending',
        attempt: 0,
        article_count: 0,
        batch_closes_at: now,
        available_at: now + 3_600_000,
        lease_expires_at: null,
        last_status_code: null,
        last_response: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        delivered_at: null,
      })
      .execute();
    const listed = await api<{ list: Array<{ id: string }>; total: number }>(
      t.url,
      `/api/v1/deliveries?task_id=${taskId}&status=pending`,
      { token: t.adminToken },
    );
    expect(listed.body.data.list.map((d) => d.id)).toEqual(['d-1']);
    expect((await api(t.url, '/api/v1/deliveries?status=nonsense', { token: t.adminToken })).status).toBe(400);
    const redeliver = await api(t.url, '/api/v1/deliveries/d-1/redeliver', { method: 'POST', token: t.adminToken });
    expect(redeliver.status).toBe(409);
    expect(
      (await api(t.url, '/api/v1/deliveries/nope/redeliver', { method: 'POST', token: t.adminToken })).status,
    ).toBe(404);
  });
});
