import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthServer, type HealthStatus } from '../../src/child/health-server.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

describe('child health endpoint', () => {
  let t: TestParent;
  let server: HealthServer;
  let port: number;
  let status: HealthStatus = { state: 'running', in_flight_allocations: 1, in_flight_feeds: 2, outbox: 0 };
  beforeAll(async () => {
    t = await startTestParent();
    server = new HealthServer(() => status);
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('answers /healthz and is what the parent’s test-connection reaches', async () => {
    const direct = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(direct.status).toBe(200);
    expect(await direct.json()).toEqual({
      status: 'ok',
      role: 'child',
      state: 'running',
      in_flight_allocations: 1,
      in_flight_feeds: 2,
      outbox: 0,
    });
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    const node = await api<{ id: string }>(t.url, '/api/v1/cascade/nodes', {
      token: t.adminToken,
      json: { node_type: 1, name: 'probed', api_url: `http://127.0.0.1:${port}` },
    });
    const probe = await api<{ connected: boolean; latency_ms: number }>(
      t.url,
      `/api/v1/cascade/nodes/${node.body.data.id}/test-connection`,
      { method: 'POST', token: t.adminToken },
    );
    expect(probe.body.data.connected).toBe(true);
    expect(probe.body.data.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('answers 503 while the child drains', async () => {
    status = { ...status, state: 'draining' };
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { status: string }).status).toBe('draining');
  });
});
