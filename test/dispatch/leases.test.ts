import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { assertLoadCountersConsistent, seedFeeds, seedTask, snapshot } from '../helpers/seed.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

type Pkg = {
  allocation_id: string;
  task_id: string;
  attempt: number;
  lease_expires_at: string;
  feeds: Array<{ id: string }>;
};

let t: TestParent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describeEachStore('leases, requeues and recovery', (dialect) => {
  it('an expired lease is requeued and completed by another node; the old holder’s late report gets 409 and changes nothing', async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: {
        'dispatch.lease_seconds': 1,
        'dispatch.sweep_interval_seconds': 1,
        'dispatch.retry_backoff_seconds': 0,
      },
    });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 1);
    const task = await seedTask(store, feeds);
    const [a, b] = [await t.addChild('a'), await t.addChild('b')];
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const first = await api<Pkg | null>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: a });
    expect(first.body.data?.attempt).toBe(1);
    const id = first.body.data?.allocation_id as string;
    expect(
      (
        await api(t.url, '/api/v1/cascade/task-status', {
          method: 'PUT',
          aksk: a,
          json: { allocation_id: id, status: 'executing' },
        })
      ).status,
    ).toBe(200);

    // b long-polls; the sweeper requeues a's expired lease and b's waiting claim wakes with attempt 2.
    const second = await api<Pkg | null>(t.url, '/api/v1/cascade/claim-task?wait=20', { method: 'POST', aksk: b });
    expect(second.body.data).toMatchObject({ allocation_id: id, attempt: 2 });

    const before = await snapshot(store);
    const late = await api(t.url, '/api/v1/cascade/report-completion', {
      aksk: a,
      json: { allocation_id: id, task_id: task, results: [{ mp_id: feeds[0], status: 'success', article_count: 3 }] },
    });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('LEASE_LOST');
    const lateUpload = await api(t.url, '/api/v1/cascade/upload-articles', {
      aksk: a,
      json: { allocation_id: id, articles: [{ id: 'x1', mp_id: feeds[0] }] },
    });
    expect(lateUpload.status).toBe(409);
    expect(await snapshot(store)).toEqual(before);

    await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: b,
      json: { allocation_id: id, status: 'executing' },
    });
    const done = await api<{ status: string; node_name: string }>(t.url, '/api/v1/cascade/report-completion', {
      aksk: b,
      json: { allocation_id: id, task_id: task, results: [{ mp_id: feeds[0], status: 'success', article_count: 0 }] },
    });
    expect(done.body.data).toMatchObject({ status: 'completed', node_name: 'b' });
    const detail = await api<{ attempts: Array<{ attempt: number; node_name: string; outcome: string }> }>(
      t.url,
      `/api/v1/cascade/allocations/${id}`,
      { token: t.adminToken },
    );
    expect(detail.body.data.attempts.map((x) => [x.attempt, x.node_name, x.outcome])).toEqual([
      [1, 'a', 'lease_expired'],
      [2, 'b', 'completed'],
    ]);
    await assertLoadCountersConsistent(store);
  });

  it('reaching max_attempts through expired leases ends in timeout', async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.lease_seconds': 1, 'dispatch.max_attempts': 2, 'dispatch.retry_backoff_seconds': 0 },
    });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 1);
    await seedTask(store, feeds);
    const a = await t.addChild('a');
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    for (const attempt of [1, 2]) {
      const claim = await api<Pkg | null>(t.url, '/api/v1/cascade/claim-task?wait=10', { method: 'POST', aksk: a });
      expect(claim.body.data?.attempt).toBe(attempt);
      // The 1 s lease runs out without heartbeats; sweep until the sweeper moves it.
      await waitFor('the sweeper to move the expired lease', async () => {
        const moved = await t!.parent.services.sweeper.sweepOnce();
        return moved.requeued + moved.timedOut > 0 ? true : undefined;
      });
    }
    const rows = await databaseOf(store)
      .selectFrom('allocations')
      .select(['status', 'attempt', 'error_message'])
      .execute();
    expect(rows).toEqual([{ status: 'timeout', attempt: 2, error_message: 'lease expired on attempt 2 of 2' }]);
    expect(await databaseOf(store).selectFrom('live_feeds').selectAll().execute()).toEqual([]);
    await assertLoadCountersConsistent(store);
  });

  it('a failed report with attempts left goes back to pending after the backoff, then to failed on the last attempt', async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.max_attempts': 2, 'dispatch.retry_backoff_seconds': 1 },
    });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 1);
    await seedTask(store, feeds);
    const a = await t.addChild('a');
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const claim1 = await api<Pkg>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: a });
    const id = claim1.body.data.allocation_id;
    await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: a,
      json: { allocation_id: id, status: 'executing' },
    });
    const failed = await api<{ status: string; attempt: number; available_at: string }>(
      t.url,
      '/api/v1/cascade/task-status',
      { method: 'PUT', aksk: a, json: { allocation_id: id, status: 'failed', error_message: 'upstream 500' } },
    );
    expect(failed.body.data).toMatchObject({ status: 'pending', attempt: 2 });
    expect(Date.parse(failed.body.data.available_at)).toBeGreaterThan(Date.now());
    // Not claimable during the backoff…
    expect((await api(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: a })).body.data).toBeNull();
    // …and claimable after it.
    const claim2 = await waitFor(
      'attempt 2 to become claimable after its backoff',
      async () =>
        (await api<Pkg | null>(t!.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: a })).body.data ??
        undefined,
    );
    expect(claim2.attempt).toBe(2);
    await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: a,
      json: { allocation_id: id, status: 'executing' },
    });
    const final = await api<{ status: string }>(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: a,
      json: { allocation_id: id, status: 'failed', error_message: 'still broken' },
    });
    expect(final.body.data.status).toBe('failed');
    const retried = await api<{ status: string; attempt: number }>(t.url, `/api/v1/cascade/allocations/${id}/retry`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(retried.body.data).toMatchObject({ status: 'pending', attempt: 3 });
  });

  it('a node that goes offline has its pre-assigned work released to the pool', async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.offline_after_seconds': 5 },
    });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 3);
    await seedTask(store, feeds);
    const a = await t.addChild('a', { max_capacity: 5 });
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: a, json: { version: 'test' } });
    const dispatched = await api<{ feeds_assigned: number }>(t.url, '/api/v1/cascade/dispatch-task', {
      method: 'POST',
      token: t.adminToken,
    });
    expect(dispatched.body.data.feeds_assigned).toBe(3);
    const moved = await t.parent.services.sweeper.sweepOnce(Date.now() + 6_000);
    expect(moved.released).toBe(3);
    const rows = await databaseOf(store).selectFrom('allocations').select(['node_id', 'status']).execute();
    expect(rows).toEqual(Array(3).fill({ node_id: null, status: 'pending' }));
    await assertLoadCountersConsistent(store);
  });
});
