import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

describeEachStore('node management', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
  });
  afterAll(async () => t?.close());

  it('creates a child with credentials shown once, never again', async () => {
    const created = await api<{ id: string; api_key: string; api_secret: string; notify_key: string }>(
      t.url,
      '/api/v1/cascade/nodes',
      {
        token: t.adminToken,
        json: { node_type: 1, name: 'child-1', sync_config: { max_capacity: 4 } },
      },
    );
    expect(created.status).toBe(200);
    expect(created.body.code).toBe(0);
    const { id, api_key, api_secret, notify_key } = created.body.data;
    expect(notify_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(api_key).toMatch(/^CN[A-Za-z0-9_-]{32}$/);
    expect(api_secret).toMatch(/^CS[A-Za-z0-9_-]{32}$/);

    const shown = await api(t.url, `/api/v1/cascade/nodes/${id}`, { token: t.adminToken });
    const listed = await api(t.url, '/api/v1/wx/cascade/nodes', { token: t.adminToken });
    for (const response of [shown, listed]) {
      expect(response.status).toBe(200);
      expect(JSON.stringify(response.body)).not.toContain(api_secret);
      expect(JSON.stringify(response.body)).not.toContain(notify_key);
      expect(JSON.stringify(response.body)).not.toContain('sha256:');
    }
    expect(capturedLogs.join('')).not.toContain(api_secret);
    expect(capturedLogs.join('')).not.toContain(notify_key);
  });

  it('tells the child its max_capacity in every heartbeat answer, also after a change', async () => {
    const child = await t.addChild('capacity-follower', { max_capacity: 3 });
    const beat = () => api<{ max_capacity: number }>(t.url, '/api/v1/cascade/heartbeat', { aksk: child, json: {} });
    const first = await beat();
    expect(first.body).toMatchObject({ code: 0 });
    expect(first.body.data.max_capacity).toBe(3);
    const changed = await api(t.url, `/api/v1/cascade/nodes/${child.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { sync_config: { max_capacity: 7 } },
    });
    expect(changed.status).toBe(200);
    expect((await beat()).body.data.max_capacity).toBe(7);
  });

  it('rejects an unknown field with VALIDATION_FAILED and stores nothing', async () => {
    const before = await api<{ total: number }>(t.url, '/api/v1/cascade/nodes', { token: t.adminToken });
    const response = await api(t.url, '/api/v1/cascade/nodes', {
      token: t.adminToken,
      json: { node_type: 1, name: 'x', colour: 'red' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('VALIDATION_FAILED');
    expect(response.body.details).toEqual([{ path: 'colour', message: 'is not a known field' }]);
    const after = await api<{ total: number }>(t.url, '/api/v1/cascade/nodes', { token: t.adminToken });
    expect(after.body.data.total).toBe(before.body.data.total);
  });
});
