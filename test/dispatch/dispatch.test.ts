import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { openStore, databaseOf } from '../../src/store/store.js';
import { api } from '../helpers/http.js';
import { claimRechecks } from '../helpers/metrics.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { waitFor } from '../helpers/wait.js';
import { spawnParent, stopAllParents } from '../e2e/parent-processes.js';

const parents: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await stopAllParents();
  await Promise.all(parents.splice(0).map((p) => p.close()));
});
async function start(databaseUrl: string, options?: Parameters<typeof startTestParent>[0]): Promise<TestParent> {
  const t = await startTestParent({ ...options, databaseUrl });
  parents.push(t);
  return t;
}

type Summary = {
  allocations_created: number;
  feeds_assigned: number;
  feeds_unassigned: number;
  feeds_skipped_in_flight: number;
  feeds_skipped_disabled: number;
  feeds_skipped_unknown: number;
  task_count: number;
  online_nodes: number;
  schedule_run_id: string;
};

describeEachStore('dispatch', (dialect) => {
  it('skips in-flight, disabled and unknown feeds, and explains unassigned placement', async () => {
    const t = await start(await dialect.createDatabase());
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 4);
    await databaseOf(store)
      .updateTable('feeds')
      .set({ status: 0 })
      .where('id', '=', feeds[3] as string)
      .execute();
    const task = await seedTask(store, [...feeds, 'MP_WXS_UNKNOWN']);
    const first = await api<Summary>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task}`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(first.body.data).toMatchObject({
      task_count: 1,
      online_nodes: 0,
      allocations_created: 3,
      feeds_assigned: 0,
      feeds_unassigned: 3,
      feeds_skipped_disabled: 1,
      feeds_skipped_unknown: 1,
      feeds_skipped_in_flight: 0,
    });
    const second = await api<Summary>(t.url, '/api/v1/wx/cascade/dispatch-task', {
      method: 'POST',
      token: t.adminToken,
    });
    expect(second.body.data).toMatchObject({ allocations_created: 0, feeds_skipped_in_flight: 3 });
    expect(second.body.data.schedule_run_id).not.toBe(first.body.data.schedule_run_id);

    const list = await api<{ list: Array<{ id: string; placement: string; node_id: null }>; total: number }>(
      t.url,
      `/api/v1/cascade/allocations?schedule_run_id=${first.body.data.schedule_run_id}`,
      { token: t.adminToken },
    );
    expect(list.body.data.total).toBe(3);
    expect(list.body.data.list[0]?.placement).toBe(
      'unassigned: no child node is online; the first node with room claims it',
    );
    const missing = await api(t.url, '/api/v1/cascade/dispatch-task?task_id=nope', {
      method: 'POST',
      token: t.adminToken,
    });
    expect(missing.status).toBe(404);
  });

  it('a long-poll claim returns with work dispatched while it waits', async () => {
    const t = await start(await dialect.createDatabase());
    const store = t.parent.services.store;
    await seedTask(store, await seedFeeds(store, 2));
    const node = await t.addChild('poller');
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    // Nothing dispatched yet: a short long-poll finds nothing, looks again when its wait runs out, and answers null.
    const idle = await claimRechecks(t.url);
    expect((await api(t.url, '/api/v1/cascade/claim-task?wait=0.1', { method: 'POST', aksk: node })).body.data).toBe(
      null,
    );
    const before = await claimRechecks(t.url);
    expect(before.timer - idle.timer).toBe(1);
    const waiting = api<{ allocation_id: string; feeds: unknown[]; headers: Record<string, string> } | null>(
      t.url,
      '/api/v1/cascade/claim-task?wait=60',
      { method: 'POST', aksk: node },
    );
    // Dispatch only once the claim is parked on the wake channel.
    const deadline = Date.now() + 10_000;
    while ((store.wake as unknown as { subscriberCount: number }).subscriberCount === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const claimed = await waiting;
    expect(claimed.status).toBe(200);
    expect(claimed.body.data?.feeds).toHaveLength(1);
    expect(claimed.body.data?.headers).toEqual({ 'x-task-header': 'secret-header' });
    // The dispatch's wake-up made it look again, not its timer.
    const after = await claimRechecks(t.url);
    expect(after.wake - before.wake).toBeGreaterThan(0);
    expect(after.timer - before.timer).toBe(0);
  });

  it(
    'a 6-field cron firing every second dispatches once per tick across two parents on one database',
    { timeout: 180_000 },
    async () => {
      const t = await start(await dialect.createDatabase(), { overrides: { 'scheduler.enabled': true } });
      const store = t.parent.services.store;
      const feeds = await seedFeeds(store, 3);
      const task = await seedTask(store, feeds, { cron: '* * * * * *' });
      // The second parent runs in its own process, as parents do. Two parents in one process on one SQLite file
      // deadlock: better-sqlite3 waits for the other connection's write lock synchronously (busy_timeout), blocking
      // the very event loop that connection needs to commit, so every tick on which both collided froze the process
      // for 10 s and then failed with "database is locked" (the flake under load).
      const second = await spawnParent(t.config.database.url, t.dir, 'second-parent', {
        CASCADE_SCHEDULER_ENABLED: 'true',
      });
      await t.parent.services.scheduler.reload();
      const ticks = () =>
        databaseOf(store).selectFrom('schedule_ticks').select('scheduled_at').where('task_id', '=', task).execute();
      await waitFor('four cron ticks', async () => ((await ticks()).length >= 4 ? true : undefined));
      // Stopping waits for in-flight ticks, so the counters and the tick rows below describe the same ticks.
      await t.parent.services.scheduler.stop();
      expect(
        (await api(second.url, '/api/v1/cascade/stop-scheduler', { method: 'POST', token: t.adminToken })).status,
      ).toBe(200);
      const fired = await ticks();
      expect(fired.length).toBeGreaterThanOrEqual(4);
      expect(new Set(fired.map((x) => x.scheduled_at)).size).toBe(fired.length);
      const here =
        (await t.parent.services.metrics.dispatches.get()).values.find((v) => v.labels.trigger === 'cron')?.value ?? 0;
      const there = Number(
        /^cascade_dispatches_total\{trigger="cron"\} (\d+)$/m.exec(
          await (await fetch(`${second.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
      // Each parent counts only the ticks it won; together they count every tick once.
      expect(here + there).toBe(fired.length);
      // Only the first tick found work; later ticks skip the in-flight feeds.
      expect(await databaseOf(store).selectFrom('allocations').select('id').execute()).toHaveLength(3);
      const state = await api<{ running: boolean; jobs: unknown[] }>(t.url, '/api/v1/cascade/scheduler', {
        token: t.adminToken,
      });
      expect(state.body.data.running).toBe(false);
    },
  );

  it('runs cron in scheduler.timezone and schedules a task created, edited or deleted through the API at once', async () => {
    const t = await start(await dialect.createDatabase(), {
      overrides: { 'scheduler.enabled': true, 'scheduler.timezone': 'Asia/Shanghai' },
    });
    const [feed] = await seedFeeds(t.parent.services.store, 1);
    type Job = { task_id: string; cron_exp: string; next_run: string; next_run_local: string };
    const scheduler = async () =>
      (await api<{ timezone: string; jobs: Job[] }>(t.url, '/api/v1/cascade/scheduler', { token: t.adminToken })).body
        .data;
    const created = await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'morning', mps_id: [{ id: feed }], cron_exp: '0 9 * * *' },
    });
    expect(created.status).toBe(200);
    // No reload call: the create itself scheduled it. 09:00 in Shanghai is 01:00 UTC.
    const state = await scheduler();
    expect(state.timezone).toBe('Asia/Shanghai');
    expect(state.jobs).toEqual([
      {
        task_id: created.body.data.id,
        task_name: 'morning',
        cron_exp: '0 9 * * *',
        next_run: expect.stringMatching(/T01:00:00\.000Z$/),
        next_run_local: expect.stringMatching(/T09:00:00\+08:00$/),
      },
    ]);

    await api(t.url, `/api/v1/message-tasks/${created.body.data.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { cron_exp: '30 18 * * *' },
    });
    expect((await scheduler()).jobs.map((j) => j.next_run_local.slice(11))).toEqual(['18:30:00+08:00']);
    await api(t.url, `/api/v1/message-tasks/${created.body.data.id}`, { method: 'DELETE', token: t.adminToken });
    expect((await scheduler()).jobs).toEqual([]);
  });

  it('schedules a task another process creates, edits or deletes in the store within a second or so, without a reload', async () => {
    const t = await start(await dialect.createDatabase(), { overrides: { 'scheduler.enabled': true } });
    const [feed] = await seedFeeds(t.parent.services.store, 1);
    // Another process on the same database, as `cascade task add` without --url is.
    const other = await openStore(t.config);
    try {
      const jobs = async () =>
        (
          await api<{ jobs: Array<{ task_id: string; cron_exp: string }> }>(t.url, '/api/v1/cascade/scheduler', {
            token: t.adminToken,
          })
        ).body.data.jobs;
      const until = async (
        check: (list: Array<{ task_id: string; cron_exp: string }>) => boolean,
      ): Promise<Array<{ task_id: string; cron_exp: string }>> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const list = await jobs();
          if (check(list) || Date.now() > deadline) return list;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      expect(await jobs()).toEqual([]);
      const task = await other.tasks.create({
        name: 'elsewhere',
        mps_id: [{ id: feed as string }],
        cron_exp: '0 7 * * *',
      });
      expect(await until((list) => list.length === 1)).toMatchObject([{ task_id: task.id, cron_exp: '0 7 * * *' }]);
      await other.tasks.update(task.id, { cron_exp: '15 7 * * *' });
      expect(await until((list) => list[0]?.cron_exp === '15 7 * * *')).toMatchObject([{ cron_exp: '15 7 * * *' }]);
      await other.tasks.remove(task.id);
      expect(await until((list) => list.length === 0)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('reports an invalid cron expression without stopping the other tasks', async () => {
    const t = await start(await dialect.createDatabase(), { overrides: { 'scheduler.enabled': true } });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 2);
    await seedTask(store, [feeds[0] as string], { id: 'good', cron: '0 * * * *' });
    await seedTask(store, [feeds[1] as string], { id: 'bad', cron: '99 * * * *' });
    const state = await api<{
      running: boolean;
      jobs: Array<{ task_id: string; next_run: string }>;
      invalid: Array<{ task_id: string; error: string }>;
    }>(t.url, '/api/v1/cascade/reload-scheduler', { method: 'POST', token: t.adminToken });
    expect(state.body.data.running).toBe(true);
    expect(state.body.data.jobs.map((j) => j.task_id)).toEqual(['good']);
    expect(state.body.data.jobs[0]?.next_run).toMatch(/Z$/);
    expect(state.body.data.invalid).toEqual([
      { task_id: 'bad', task_name: 'bad', cron_exp: '99 * * * *', error: expect.any(String) },
    ]);
  });

  it('serves Prometheus metrics, behind a token when one is configured', async () => {
    const t = await start(await dialect.createDatabase(), { overrides: { 'metrics.token': 'scrape-token-123' } });
    await seedTask(t.parent.services.store, await seedFeeds(t.parent.services.store, 2));
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    const response = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-123' } });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('cascade_allocations{status="pending"} 2');
    expect(text).toContain('cascade_dispatches_total{trigger="api"} 1');
    expect(text).toContain('cascade_nodes_online 0');
    expect(text).toMatch(
      /cascade_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/cascade\/dispatch-task",status="200"\} 1/,
    );
  });

  it('summarises pending work and feed freshness, stalest first', async () => {
    const t = await start(await dialect.createDatabase());
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 3);
    const nowSeconds = Math.floor(Date.now() / 1000);
    await databaseOf(store)
      .updateTable('feeds')
      .set({ update_time: nowSeconds - 100 })
      .where('id', '=', feeds[0] as string)
      .execute();
    await databaseOf(store)
      .updateTable('feeds')
      .set({ update_time: nowSeconds - 30 * 3600 })
      .where('id', '=', feeds[1] as string)
      .execute();
    await seedTask(store, feeds);
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const pending = await api(t.url, '/api/v1/cascade/pending-allocations', { token: t.adminToken });
    expect(pending.body.data).toEqual({
      pending_tasks: 3,
      executing_tasks: 0,
      completed_today: 0,
      failed_today: 0,
      online_nodes: 0,
    });
    const status = await api<{
      list: Array<{ id: string; update_status: string; last_task: { status: string } | null }>;
    }>(t.url, '/api/v1/cascade/feed-status', { token: t.adminToken });
    expect(status.body.data.list.map((f) => [f.id, f.update_status, f.last_task?.status])).toEqual([
      [feeds[2], 'unknown', 'pending'],
      [feeds[1], 'stale', 'pending'],
      [feeds[0], 'fresh', 'pending'],
    ]);
  });
});
