import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { AllocationChange } from '../../src/store/activity.js';
import type { NodeView } from '../../src/store/nodes.js';
import type { DispatchSummary } from '../../src/dispatch/dispatcher.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { SseReader } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

type Ticket = { ticket: string; expires_in: number };

describeEachStore('console event stream', (dialect) => {
  let a: TestParent;
  let b: TestParent;
  let viewerToken: string;
  const readers: SseReader[] = [];

  async function ticket(parent: TestParent, token = parent.adminToken): Promise<string> {
    const answer = await api<Ticket>(parent.url, '/api/v1/events/ticket', { method: 'POST', token });
    expect(answer.status).toBe(200);
    expect(answer.body.data.expires_in).toBe(30);
    return answer.body.data.ticket;
  }

  async function open(parent: TestParent, headers: Record<string, string> = {}, token?: string): Promise<SseReader> {
    const reader = await SseReader.open(
      `${parent.url}/api/v1/events?ticket=${encodeURIComponent(await ticket(parent, token))}`,
      headers,
    );
    readers.push(reader);
    expect(reader.status).toBe(200);
    // The stream polls from its first subscriber on; wait until that first (priming) read happened.
    await parent.parent.services.events.pollNow();
    return reader;
  }

  beforeAll(async () => {
    const url = await dialect.createDatabase();
    a = await startTestParent({ databaseUrl: url });
    // A second parent on the same database: its moves must reach viewers of the first.
    b = await startTestParent({ databaseUrl: url });
    await api(a.url, '/api/v1/users', {
      token: a.adminToken,
      json: { username: 'viewer', password: 'viewer-password', role: 'viewer' },
    });
    viewerToken = (
      await api<{ access_token: string }>(a.url, '/api/v1/auth/login', {
        json: { username: 'viewer', password: 'viewer-password' },
      })
    ).body.data.access_token;
  });
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('opens only with a fresh single-use ticket, never with the login token in the URL', async () => {
    const missing = await api(a.url, '/api/v1/events');
    expect(missing.status).toBe(400);
    const withJwt = await api(a.url, `/api/v1/events?ticket=${a.adminToken}`);
    expect(withJwt).toMatchObject({ status: 401, body: { error: 'UNAUTHENTICATED' } });
    const forged = await api(a.url, '/api/v1/events?ticket=abc.def.ghi');
    expect(forged.status).toBe(401);
    expect((await api(a.url, '/api/v1/events/ticket', { method: 'POST' })).status).toBe(401);

    const once = await ticket(a, viewerToken);
    // A ticket is not a login token either.
    expect((await api(a.url, '/api/v1/feeds', { token: once })).status).toBe(401);
    const first = await SseReader.open(`${a.url}/api/v1/events?ticket=${once}`);
    readers.push(first);
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    const again = await SseReader.open(`${a.url}/api/v1/events?ticket=${once}`);
    expect(again.status).toBe(401);
    expect(again.body).toContain('already used');
  });

  it('pushes dispatch results, allocation moves (also those made through another parent) and node changes', async () => {
    const reader = await open(a, {}, viewerToken);
    const child = await a.addChild('events-child', { max_capacity: 10 });
    expect((await api(b.url, '/api/v1/cascade/heartbeat', { method: 'POST', aksk: child, json: {} })).status).toBe(200);
    const online = await reader.waitFor<NodeView>(
      'the child online',
      'node',
      (n) => n.id === child.id && n.status === 1,
    );
    expect(online.name).toBe('events-child');

    const feeds = await seedFeeds(a.parent.services.store, 1, 'EV_');
    const taskId = await seedTask(a.parent.services.store, feeds, { name: 'events task' });
    // Dispatched by parent b: a's viewers learn of it from the shared tables.
    const dispatched = await api<DispatchSummary>(b.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, {
      method: 'POST',
      token: b.adminToken,
    });
    expect(dispatched.body.data.allocations_created).toBe(1);
    const pending = await reader.waitFor<AllocationChange>(
      'the new allocation',
      'allocation',
      (c) => c.task_id === taskId && c.status === 'pending',
    );
    expect(pending.node_id).toBe(child.id);

    const claimed = await api<{ allocation_id: string; attempt: number }>(b.url, '/api/v1/cascade/claim-task', {
      method: 'POST',
      aksk: child,
    });
    expect(claimed.body.data.allocation_id).toBe(pending.id);
    await reader.waitFor<AllocationChange>(
      'the claim',
      'allocation',
      (c) => c.id === pending.id && c.status === 'claimed',
    );
    await api(b.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: child,
      json: { allocation_id: pending.id, status: 'executing', attempt: claimed.body.data.attempt },
    });
    await reader.waitFor<AllocationChange>(
      'executing',
      'allocation',
      (c) => c.id === pending.id && c.status === 'executing',
    );

    // A dispatch through this parent is announced with its summary.
    const again = await api<DispatchSummary>(a.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, {
      method: 'POST',
      token: a.adminToken,
    });
    const summary = await reader.waitFor<DispatchSummary>(
      'the dispatch summary',
      'dispatch',
      (d) => d.schedule_run_id === again.body.data.schedule_run_id,
    );
    expect(summary).toMatchObject({ allocations_created: 0, feeds_skipped_in_flight: 1 });

    // Disabling the node is a node event with the derived status.
    await api(a.url, `/api/v1/cascade/nodes/${child.id}`, {
      method: 'PUT',
      token: a.adminToken,
      json: { is_active: false },
    });
    await reader.waitFor<NodeView>('the node disabled', 'node', (n) => n.id === child.id && n.status === 2);
    // Every event id is unique and increasing within one parent's boot.
    const ids = reader.frames.map((f) => Number(f.id?.split('-')[1]));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('replays what a reconnecting viewer missed, and says resync when it cannot', async () => {
    const first = await open(a);
    const feeds = await seedFeeds(a.parent.services.store, 1, 'RP_');
    const taskId = await seedTask(a.parent.services.store, feeds);
    await api(a.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, { method: 'POST', token: a.adminToken });
    const seen = await first.waitFor<DispatchSummary>('first dispatch', 'dispatch');
    // Hold the feed open with a second listener while the first viewer is away, then dispatch again.
    const keeper = await open(a);
    await first.close();
    const second = await api<DispatchSummary>(a.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, {
      method: 'POST',
      token: a.adminToken,
    });
    await keeper.waitFor<DispatchSummary>(
      'second dispatch',
      'dispatch',
      (d) => d.schedule_run_id === second.body.data.schedule_run_id,
    );

    const resumed = await open(a, { 'last-event-id': seen._id ?? '' });
    const replayed = await resumed.waitFor<DispatchSummary>(
      'the missed dispatch',
      'dispatch',
      (d) => d.schedule_run_id === second.body.data.schedule_run_id,
    );
    expect(replayed._id).not.toBe(seen._id);
    expect(resumed.of('resync')).toEqual([]);

    // The same through the query (a client reconnecting with a new ticket builds a new URL).
    const ticketed = await SseReader.open(
      `${a.url}/api/v1/events?ticket=${await ticket(a)}&last_event_id=${seen._id ?? ''}`,
    );
    readers.push(ticketed);
    await ticketed.waitFor<DispatchSummary>(
      'the missed dispatch again',
      'dispatch',
      (d) => d.schedule_run_id === second.body.data.schedule_run_id,
    );

    // An id from another boot (a restarted parent, or another parent) cannot be replayed: refetch.
    const stranger = await open(a, { 'last-event-id': 'deadbeef-3' });
    await stranger.waitFor('resync', 'resync');
  });

  it('ends open streams when the parent closes so that shutdown is not held up', async () => {
    const extra = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    const reader = await open(extra);
    await extra.close();
    await waitFor('the stream to end', () => (reader.ended ? true : undefined), 5000);
  });
});
