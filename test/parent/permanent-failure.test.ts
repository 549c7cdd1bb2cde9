import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

type Pkg = { allocation_id: string; attempt: number };
type View = { status: string; attempt: number; max_attempts: number; error_message: string | null };

describeEachStore('child reports a failure retrying cannot fix', (dialect) => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.feeds_per_allocation': 1, 'dispatch.max_attempts': 3 },
    });
    await seedTask(t.parent.services.store, await seedFeeds(t.parent.services.store, 2));
    node = await t.addChild('worker', { max_capacity: 2 });
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
  });
  afterAll(async () => t?.close());

  it('fails at once with retryable: false and retries without it, on the first of 3 attempts', async () => {
    const claimed = await api<{ list: Pkg[] }>(t.url, '/api/v1/cascade/claim-task?max=2', {
      method: 'POST',
      aksk: node,
    });
    const [permanent, transient] = claimed.body.data.list;
    expect(permanent && transient).toBeTruthy();
    const report = async (pkg: Pkg, extra: object) => {
      await api(t.url, '/api/v1/cascade/task-status', {
        method: 'PUT',
        aksk: node,
        json: { allocation_id: pkg.allocation_id, status: 'executing' },
      });
      return api<View>(t.url, '/api/v1/cascade/task-status', {
        method: 'PUT',
        aksk: node,
        json: { allocation_id: pkg.allocation_id, status: 'failed', ...extra },
      });
    };

    const failed = await report(permanent!, { error_message: 'MP_WXS_1: HTTP 404 Not Found', retryable: false });
    expect(failed.status).toBe(200);
    expect(failed.body.message).toBe('Failure recorded; no attempts left.');
    expect(failed.body.data).toMatchObject({
      status: 'failed',
      attempt: 1,
      max_attempts: 3,
      error_message: 'MP_WXS_1: HTTP 404 Not Found',
    });

    const retried = await report(transient!, { error_message: 'MP_WXS_2: HTTP 503 Service Unavailable' });
    expect(retried.body.data).toMatchObject({ status: 'pending', attempt: 2 });
  });

  it('refuses a retryable that is not a boolean with VALIDATION_FAILED', async () => {
    const answer = await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: { allocation_id: 'x', status: 'failed', retryable: 'no' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'VALIDATION_FAILED' });
  });
});
