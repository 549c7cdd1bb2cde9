import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedNotify } from '../../src/auth/notify-signature.js';
import type {
  HeartbeatBody,
  ReportCompletionBody,
  TaskStatusBody,
  UploadArticlesBody,
} from '../../src/protocol/child-requests.js';
import { HeartbeatAnswer, NotifyMessage, TaskPackage, UploadAnswer } from '../../src/protocol/parent-messages.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

/** Every way the value breaks the schema, as `path: message` lines (empty when it conforms). */
const problems = (schema: TSchema, value: unknown) =>
  [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);

/**
 * The parent's real answers against the one definition of the wire in src/protocol/: what the child is typed
 * against is what the parent sends, on every store (and on PostgreSQL through its single-statement claim).
 */
describeEachStore('the parent answers in the shapes of src/protocol', (dialect) => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  let feeds: string[];
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.feeds_per_allocation': 2 },
    });
    feeds = await seedFeeds(t.parent.services.store, 4);
    await seedTask(t.parent.services.store, feeds);
    node = await t.addChild('protocol-worker');
  });
  afterAll(async () => t?.close());

  it('answers a heartbeat with a HeartbeatAnswer carrying every field', async () => {
    const body: HeartbeatBody = {
      current_tasks: 0,
      outbox_depth: 0,
      held_allocation_ids: [],
      heartbeat_interval_s: 60,
      version: 'test',
      hostname: 'h',
    };
    const answer = await api<unknown>(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: body });
    expect(answer.status).toBe(200);
    expect(problems(HeartbeatAnswer, answer.body.data)).toEqual([]);
    expect(answer.body.data).toMatchObject({
      node_name: 'protocol-worker',
      released_unlisted: 0,
      max_capacity: expect.any(Number),
    });
  });

  it('claims TaskPackages, also for a feed deleted after the dispatch, and answers uploads with an UploadAnswer', async () => {
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    await databaseOf(t.parent.services.store).deleteFrom('feeds').where('id', '=', feeds[3]!).execute();
    const one = await api<TaskPackage | null>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: node });
    const more = await api<{ list: TaskPackage[] }>(t.url, '/api/v1/cascade/claim-task?max=5', {
      method: 'POST',
      aksk: node,
    });
    const packages = [one.body.data, ...more.body.data.list];
    expect(packages).toHaveLength(2);
    for (const pkg of packages) expect(problems(TaskPackage, pkg)).toEqual([]);
    expect(packages.flatMap((p) => p!.feeds.map((f) => f.id)).sort()).toEqual([...feeds].sort());
    expect(packages[0]!.headers).toEqual({ 'x-task-header': 'secret-header' });

    const pkg = packages.find((p) => p!.feeds.some((f) => f.id === feeds[0]))!;
    const executing: TaskStatusBody = { allocation_id: pkg.allocation_id, attempt: pkg.attempt, status: 'executing' };
    expect(
      (await api(t.url, '/api/v1/cascade/task-status', { method: 'PUT', aksk: node, json: executing })).status,
    ).toBe(200);
    const upload: UploadArticlesBody = {
      allocation_id: pkg.allocation_id,
      attempt: pkg.attempt,
      articles: [{ id: 'p1', mp_id: feeds[0]!, title: 'T', publish_time: 1_700_000_000 }],
    };
    const uploaded = await api<unknown>(t.url, '/api/v1/cascade/upload-articles', { aksk: node, json: upload });
    expect(problems(UploadAnswer, uploaded.body.data)).toEqual([]);

    const report: ReportCompletionBody = {
      allocation_id: pkg.allocation_id,
      attempt: pkg.attempt,
      task_id: pkg.task_id,
      results: pkg.feeds.map((f) => ({
        mp_id: f.id,
        status: 'success' as const,
        article_count: f.id === feeds[0] ? 1 : 0,
        etag: null,
        last_modified: null,
      })),
    };
    const completed = await api<{ status: string }>(t.url, '/api/v1/cascade/report-completion', {
      aksk: node,
      json: report,
    });
    expect(completed.body.data.status).toBe('completed');
  });
});

it('signs notify bodies in the NotifyMessage shape', () => {
  const { body } = signedNotify('k'.repeat(32), { allocation_id: 'a1', feed_count: 2 });
  expect(problems(NotifyMessage, JSON.parse(body))).toEqual([]);
});
