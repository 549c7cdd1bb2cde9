import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFY_SIGNATURE_HEADER, notifySignature, signedNotify } from '../../src/auth/notify-signature.js';
import { ChildAgent } from '../../src/child/agent.js';
import { resolveChildSettings } from '../../src/child/child-settings.js';
import { HealthServer } from '../../src/child/health-server.js';
import { loadConfig } from '../../src/config/load.js';
import { loadExecutor } from '../../src/executors/load.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

const KEY = 'k'.repeat(43);
const healthy = () => ({ state: 'running', in_flight_allocations: 0, in_flight_feeds: 0, outbox: 0 });

async function post(port: number, path: string, body: string, signature?: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { [NOTIFY_SIGNATURE_HEADER]: signature } : {}) },
    body,
  });
  await response.body?.cancel();
  return response.status;
}

describe('the child’s notify endpoint', () => {
  let server: HealthServer;
  let port: number;
  let notified = 0;
  beforeAll(async () => {
    server = new HealthServer(healthy, { key: KEY, onNotify: () => (notified += 1) });
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => server?.close());

  it('takes a signed notify on both prefixes, once each', async () => {
    for (const path of ['/api/v1/cascade/notify', '/api/v1/wx/cascade/notify']) {
      const before = notified;
      const { body, signature } = signedNotify(KEY, { allocation_id: 'a-1', feed_count: 2 });
      expect(await post(port, path, body, signature)).toBe(200);
      expect(notified).toBe(before + 1);
      // The same bytes again (a replay inside the window) are refused.
      expect(await post(port, path, body, signature)).toBe(401);
      expect(notified).toBe(before + 1);
    }
  });

  it('refuses a bad signature, a missing one, an old or future timestamp with 401, and does nothing', async () => {
    const before = notified;
    const fresh = signedNotify(KEY, { allocation_id: 'a-2', feed_count: 1 });
    const tenMinutes = 10 * 60_000;
    const old = signedNotify(KEY, { allocation_id: 'a-2', feed_count: 1 }, Date.now() - tenMinutes);
    const future = signedNotify(KEY, { allocation_id: 'a-2', feed_count: 1 }, Date.now() + tenMinutes);
    const tampered = fresh.body.replace('"feed_count":1', '"feed_count":9');
    const statuses = [
      await post(
        port,
        '/api/v1/cascade/notify',
        fresh.body,
        signedNotify('x'.repeat(43), { allocation_id: 'a-2', feed_count: 1 }).signature,
      ),
      await post(port, '/api/v1/cascade/notify', fresh.body),
      await post(port, '/api/v1/cascade/notify', tampered, fresh.signature),
      await post(port, '/api/v1/cascade/notify', old.body, old.signature),
      await post(port, '/api/v1/cascade/notify', future.body, future.signature),
      await post(port, '/api/v1/cascade/notify', 'not json', notifySignature(KEY, 'not json')),
    ];
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    expect(notified).toBe(before);
  });

  it('refuses every notify when the child has no notify key', async () => {
    const keyless = new HealthServer(healthy);
    const keylessPort = await keyless.listen(0, '127.0.0.1');
    try {
      const { body, signature } = signedNotify(KEY, { allocation_id: 'a-3', feed_count: 1 });
      expect(await post(keylessPort, '/api/v1/cascade/notify', body, signature)).toBe(401);
      expect((await fetch(`http://127.0.0.1:${keylessPort}/healthz`)).status).toBe(200);
    } finally {
      await keyless.close();
    }
  });
});

/** A free port on 127.0.0.1 for the child's health server (the node's api_url must name it before the child starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Forwards the child's calls to the parent and counts its claims twice: when one arrives (before the parent sees it)
 * and once it has been answered, so the test knows when the child went idle and which claims came after a moment.
 */
function countingProxy(
  target: string,
): Promise<{ server: Server; url: string; claims: () => { started: number; answered: number } }> {
  const claims = { started: 0, answered: 0 };
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    if (incoming.url?.includes('/claim-task')) {
      claims.started += 1;
      // Answered once sent: a claim still on its way could take work dispatched after it was counted.
      outgoing.once('finish', () => (claims.answered += 1));
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
        claims: () => ({ ...claims }),
      });
    });
  });
}

describe('a dispatch notifies the node it placed work on', () => {
  let t: TestParent;
  let dir: string;
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    t = await startTestParent();
    dir = mkdtempSync(join(tmpdir(), 'cascade-notify-'));
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wakes a child whose long-poll is off, which claims at once instead of after its claim interval', async () => {
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 1, 'MP_NOTIFY_');
    const taskId = await seedTask(store, feeds);
    const healthPort = await freePort();
    const created = await api<{ id: string; api_key: string; api_secret: string; notify_key: string }>(
      t.url,
      '/api/v1/cascade/nodes',
      {
        token: t.adminToken,
        json: { node_type: 1, name: 'notified', api_url: `http://127.0.0.1:${healthPort}` },
      },
    );
    expect(created.body.data.notify_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const proxy = await countingProxy(t.url);
    stops.push(() => new Promise((resolve) => proxy.server.close(resolve)));

    const config = loadConfig({
      env: {},
      overrides: {
        log_level: 'silent',
        'cascade.node_type': 'child',
        'cascade.parent_api_url': proxy.url,
        'cascade.api_key': created.body.data.api_key,
        'cascade.api_secret': created.body.data.api_secret,
        'cascade.notify_key': created.body.data.notify_key,
        'cascade.health_port': healthPort,
        'cascade.claim_wait_seconds': 0,
        'cascade.claim_interval_seconds': 3600,
        'cascade.shutdown_grace_seconds': 5,
        'cascade.data_dir': join(dir, 'child'),
      },
    });
    const settings = resolveChildSettings(config);
    const executor = await loadExecutor('feed', { timeoutMs: 2000, maxBytes: 1_000_000, maxRedirects: 0 });
    const agent = new ChildAgent({ settings, executor, logger: pino({ level: 'silent' }) });
    const running = agent.run();
    stops.push(() => agent.stop().then(() => running));

    // The child heartbeats, asks once, finds nothing, and would now wait an hour.
    await waitFor('the child’s first claim answered', () => (proxy.claims().answered >= 1 ? true : undefined), 20_000);
    // Its first feed and task sync (the original child's sync_interval loop) shows on the node.
    await waitFor(
      'the child’s first list sync',
      async () => ((await store.nodes.get(created.body.data.id)).lastSyncAtMs === null ? undefined : true),
      20_000,
    );
    // Every claim so far has been answered, so none of them can take the work dispatched next.
    const beforeDispatch = await waitFor('no claim of the child in flight', () => {
      const now = proxy.claims();
      return now.answered === now.started ? now : undefined;
    });
    const dispatch = await api<{ feeds_assigned: number }>(t.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(dispatch.body.data.feeds_assigned).toBe(1);

    const attempt = await waitFor(
      'the notified child to claim its work',
      async () =>
        (await databaseOf(store)
          .selectFrom('allocation_attempts')
          .selectAll()
          .where('node_id', '=', created.body.data.id)
          .executeTakeFirst()) ?? undefined,
      20_000,
    );
    expect(attempt.attempt).toBe(1);
    // The claim that took the work started after the dispatch (a claim reaches the proxy before the parent records
    // its attempt, so it is counted by now; its answer may still be on the way): with long-poll off and an hour
    // between claims, only the notify could have started it.
    expect(proxy.claims().started).toBeGreaterThan(beforeDispatch.started);
  });
});
