import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { networkPolicy } from '../../src/net/address-policy.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { probeHealth } from '../../src/parent/routes/admin/nodes.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

type Probe = { connected: boolean; latency_ms: number; error?: string };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/** A port that was just free: bind it, note it, release it. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describeEachStore('POST /cascade/nodes/{id}/test-connection', (dialect) => {
  let t: TestParent;
  let healthy: Server;
  let healthyUrl: string;
  const seenPaths: string[] = [];

  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    healthy = createServer((request, response) => {
      seenPaths.push(request.url ?? '');
      if (request.url === '/healthz')
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else response.writeHead(503).end('down');
    });
    healthyUrl = await listen(healthy);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => healthy.close(() => resolve()));
    await t.close();
  });

  async function nodeWith(apiUrl: string | undefined, name: string): Promise<string> {
    const created = await api<{ id: string }>(t.url, '/api/v1/cascade/nodes', {
      token: t.adminToken,
      json: { node_type: 1, name, ...(apiUrl ? { api_url: apiUrl } : {}) },
    });
    return created.body.data.id;
  }

  it("reaches a live child's /healthz through its stored api_url", async () => {
    const id = await nodeWith(`${healthyUrl}/`, 'live-child');
    const response = await api<Probe>(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(response.status).toBe(200);
    expect(response.body.data.connected).toBe(true);
    expect(response.body.data.latency_ms).toBeGreaterThanOrEqual(0);
    expect(response.body.data.error).toBeUndefined();
    expect(seenPaths).toContain('/healthz');
  });

  it('answers 200 with connected:false for a closed port', async () => {
    const id = await nodeWith(await closedPortUrl(), 'dead-child');
    const response = await api<Probe>(t.url, `/api/v1/wx/cascade/nodes/${id}/test-connection`, {
      method: 'POST',
      token: t.adminToken,
      json: {},
    });
    expect(response.status).toBe(200);
    expect(response.body.data.connected).toBe(false);
    expect(response.body.data.error).toMatch(/ECONNREFUSED/);
  });

  it('probes a body api_url instead of the stored one', async () => {
    const id = await nodeWith(await closedPortUrl(), 'moved-child');
    const response = await api<Probe>(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
      token: t.adminToken,
      json: { api_url: healthyUrl },
    });
    expect(response.body.data.connected).toBe(true);
  });

  it('reports a non-2xx health answer as not connected', async () => {
    const id = await nodeWith(`${healthyUrl}/sub`, 'sick-child');
    const response = await api<Probe>(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(response.body.data).toMatchObject({ connected: false, error: 'health check answered HTTP 503' });
  });

  it('answers 422 when there is no address to probe, 404 for an unknown node, 403 for a viewer', async () => {
    const id = await nodeWith(undefined, 'no-url-child');
    const none = await api(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(none.status).toBe(422);
    expect(none.body.message).toContain('api_url');
    const unknown = await api(t.url, '/api/v1/cascade/nodes/nope/test-connection', {
      method: 'POST',
      token: t.adminToken,
    });
    expect(unknown.status).toBe(404);
    await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'watcher', password: 'watcher-password', role: 'viewer' },
    });
    const login = await api<{ access_token: string }>(t.url, '/api/v1/auth/login', {
      json: { username: 'watcher', password: 'watcher-password' },
    });
    const viewer = await api(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
      method: 'POST',
      token: login.body.data.access_token,
      json: { api_url: healthyUrl },
    });
    expect(viewer.status).toBe(403);
  });

  it('refuses addresses outside the network policy without connecting, with the same answer whatever listens there', async () => {
    const id = await nodeWith(healthyUrl, 'policy-child');
    const probe = (apiUrl: string) =>
      api<Probe>(t.url, `/api/v1/cascade/nodes/${id}/test-connection`, {
        token: t.adminToken,
        json: { api_url: apiUrl },
      });
    const metadata = await probe('http://169.254.169.254');
    expect(metadata.status).toBe(200);
    expect(metadata.body.data).toMatchObject({
      connected: false,
      error: 'address 169.254.169.254 is not allowed (link-local, where cloud metadata lives; refused always)',
    });
    // The test parent allows 127.0.0.1 only: another loopback address is refused by the policy, not probed.
    const [closedPort, openPort] = [await closedPortUrl(), healthyUrl].map((u) => u.replace('127.0.0.1', '127.0.0.2'));
    const answers = await Promise.all([closedPort!, openPort!].map(async (u) => (await probe(u)).body.data.error));
    expect(answers).toEqual([
      expect.stringMatching(/^address 127\.0\.0\.2 is not allowed \(loopback;/),
      expect.stringMatching(/^address 127\.0\.0\.2 is not allowed \(loopback;/),
    ]);
    // Under the default policy (nothing allowed), even the live child on 127.0.0.1 is not connected to.
    const seen = seenPaths.length;
    const strict = createGuardedFetch(networkPolicy({ allow_private: false, allow_cidrs: [] }));
    expect(await probeHealth(healthyUrl, strict)).toMatchObject({
      connected: false,
      error: expect.stringMatching(/^address 127\.0\.0\.1 is not allowed/),
    });
    expect(seenPaths.length).toBe(seen);
  });

  it('gives up on a child that accepts the connection but never answers', async () => {
    const hanging = createServer(() => {
      // Never respond: the probe must time out on its own.
    });
    const url = await listen(hanging);
    try {
      const result = await probeHealth(url, t.parent.services.outboundFetch, 200);
      expect(result).toMatchObject({ connected: false, error: 'no answer within 0.2 s' });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
