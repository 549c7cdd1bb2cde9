import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { databaseOf } from '../../src/store/store.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

type Pkg = { allocation_id: string; attempt: number; feeds: Array<{ id: string }> };
type Hosts = {
  enabled: boolean;
  list: Array<{ host: string; in_flight: number; paused_until: string | null; pause_reason: string | null }>;
};

/**
 * The wire side of Retry-After pauses (issue 17 item 1): a completion or a failure naming a feed's Retry-After pauses
 * the feed's host, only for feeds of the reported allocation; a malformed value is a 400 that changes nothing.
 */
describeEachStore('a reported Retry-After pauses the host', (dialect) => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: {
        'dispatch.feeds_per_allocation': 1,
        'politeness.enabled': true,
        'politeness.min_interval_ms_per_host': 0,
        'politeness.max_pause_seconds': 600,
      },
    });
    const { store } = t.parent.services;
    const ids = await seedFeeds(store, 3, 'RA_');
    const hosts = ['a.example.com', 'b.example.org', 'c.example.net'];
    for (const [i, id] of ids.entries())
      await databaseOf(store)
        .updateTable('feeds')
        .set({ url: `https://${hosts[i]}/${id}.xml` })
        .where('id', '=', id)
        .execute();
    await seedTask(store, ids);
    node = await t.addChild('worker', { max_capacity: 3 });
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
  });
  afterAll(async () => t?.close());

  const hosts = async () => (await api<Hosts>(t.url, '/api/v1/cascade/hosts', { token: t.adminToken })).body.data;

  it('pauses the host of a failed feed in a completion or a failure, ignores feeds of other allocations and values that are no seconds', async () => {
    const claimed = await api<{ list: Pkg[] }>(t.url, '/api/v1/cascade/claim-task?max=3', {
      method: 'POST',
      aksk: node,
    });
    const [first, second, third] = claimed.body.data.list;
    expect(third).toBeTruthy();
    expect((await hosts()).list.map((h) => [h.host, h.in_flight]).sort()).toEqual([
      ['example.com', 1],
      ['example.net', 1],
      ['example.org', 1],
    ]);
    for (const pkg of [first!, second!, third!])
      await api(t.url, '/api/v1/cascade/task-status', {
        method: 'PUT',
        aksk: node,
        json: { allocation_id: pkg.allocation_id, status: 'executing' },
      });

    const badStatus = await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: {
        allocation_id: second!.allocation_id,
        status: 'failed',
        retry_after: [{ mp_id: 'x', retry_after_seconds: -1 }],
      },
    });
    expect(badStatus.status).toBe(400);
    expect((await hosts()).list.every((h) => h.paused_until === null && h.in_flight === 1)).toBe(true);
    // The completion's liberal reading (as for counts) drops a value that is no number of seconds: no pause.
    const thirdRow = await t.parent.services.store.allocations.views.get(third!.allocation_id);
    const unusable = await api(t.url, '/api/v1/cascade/report-completion', {
      aksk: node,
      json: {
        allocation_id: third!.allocation_id,
        task_id: thirdRow!.taskId,
        results: [{ mp_id: third!.feeds[0]!.id, status: 'failed', article_count: 0, retry_after_seconds: 'soon' }],
      },
    });
    expect(unusable.status).toBe(200);

    const task = await t.parent.services.store.allocations.views.get(first!.allocation_id);
    const completed = await api(t.url, '/api/v1/cascade/report-completion', {
      aksk: node,
      json: {
        allocation_id: first!.allocation_id,
        task_id: task!.taskId,
        results: [
          {
            mp_id: first!.feeds[0]!.id,
            status: 'failed',
            article_count: 0,
            error: 'HTTP 429',
            retry_after_seconds: 120,
          },
        ],
      },
    });
    expect(completed.status).toBe(200);
    // A failure naming its own feed and another allocation's: only its own feed's host is paused.
    const failed = await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: {
        allocation_id: second!.allocation_id,
        status: 'failed',
        error_message: 'HTTP 503',
        retry_after: [
          { mp_id: second!.feeds[0]!.id, retry_after_seconds: 99999 },
          { mp_id: third!.feeds[0]!.id, retry_after_seconds: 60 },
        ],
      },
    });
    expect(failed.status).toBe(200);
    const after = new Map((await hosts()).list.map((h) => [h.host, h]));
    const hostOf = (pkg: Pkg) =>
      ({ RA_1: 'example.com', RA_2: 'example.org', RA_3: 'example.net' })[pkg.feeds[0]!.id as 'RA_1']!;
    const pausedFor = (pkg: Pkg) => {
      const until = after.get(hostOf(pkg))?.paused_until;
      return until ? Date.parse(until) - Date.now() : null;
    };
    expect(pausedFor(first!)).toBeGreaterThan(100_000);
    expect(pausedFor(first!)).toBeLessThanOrEqual(120_000);
    // Bounded by politeness.max_pause_seconds (600 s), not the 99999 s asked.
    expect(pausedFor(second!)).toBeGreaterThan(500_000);
    expect(pausedFor(second!)).toBeLessThanOrEqual(600_000);
    expect(pausedFor(third!)).toBeNull();
    expect(after.get(hostOf(first!))).toMatchObject({
      in_flight: 0,
      pause_reason: expect.stringContaining('Retry-After'),
    });
    expect(after.get(hostOf(third!))).toMatchObject({ in_flight: 0, paused_until: null });
  });
});
