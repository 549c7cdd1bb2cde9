import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleartextParentWarnings } from '../../src/child/check.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

/** A raw request, so headers fetch would refuse or rewrite reach the parent as sent. */
function rawGet(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describeEachStore(
  'access hardening: viewers, tokens, child authentication, request ids, the parent record',
  (dialect) => {
    let t: TestParent;
    let viewerToken = '';
    let viewerId = '';
    let taskId = '';
    const viewerLogin = { username: 'hardening-viewer', password: 'viewer-password-1' };

    beforeAll(async () => {
      t = await startTestParent({
        databaseUrl: await dialect.createDatabase(),
        overrides: { 'auth.node_max_failures': 3 },
      });
      viewerId = (
        await api<{ id: string }>(t.url, '/api/v1/users', {
          token: t.adminToken,
          json: { ...viewerLogin, role: 'viewer' },
        })
      ).body.data.id;
      viewerToken = (await api<{ access_token: string }>(t.url, '/api/v1/auth/login', { json: viewerLogin })).body.data
        .access_token;
      await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id: 'HARD_FEED', mp_name: 'hardening' } });
      taskId = (
        await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
          token: t.adminToken,
          json: {
            name: 'with credentials',
            mps_id: [{ id: 'HARD_FEED' }],
            headers: { Authorization: 'Bearer site-token-123' },
            cookies: 'session=cookie-456',
          },
        })
      ).body.data.id;
    });
    afterAll(async () => t?.close());

    it('viewers see task header names but not their values, nor the cookies; admins see both', async () => {
      type Task = { id: string; headers: Record<string, string>; cookies: string };
      const asViewer = await api<Task>(t.url, `/api/v1/message-tasks/${taskId}`, { token: viewerToken });
      expect(asViewer.body.data).toMatchObject({ headers: { Authorization: '[redacted]' }, cookies: '[redacted]' });
      const listed = await api<{ list: Task[] }>(t.url, '/api/v1/message-tasks', { token: viewerToken });
      expect(JSON.stringify(listed.body)).not.toMatch(/site-token-123|cookie-456/);
      const asAdmin = await api<Task>(t.url, `/api/v1/message-tasks/${taskId}`, { token: t.adminToken });
      expect(asAdmin.body.data).toMatchObject({
        headers: { Authorization: 'Bearer site-token-123' },
        cookies: 'session=cookie-456',
      });
    });

    it('disabling and re-enabling a user, or changing the password, ends every token issued before', async () => {
      const reads = async (token: string) => (await api(t.url, '/api/v1/feeds', { token })).status;
      expect(await reads(viewerToken)).toBe(200);
      await api(t.url, `/api/v1/users/${viewerId}`, { method: 'PUT', token: t.adminToken, json: { is_active: false } });
      await api(t.url, `/api/v1/users/${viewerId}`, { method: 'PUT', token: t.adminToken, json: { is_active: true } });
      expect(await reads(viewerToken)).toBe(401);
      const fresh = (await api<{ access_token: string }>(t.url, '/api/v1/auth/login', { json: viewerLogin })).body.data
        .access_token;
      expect(await reads(fresh)).toBe(200);
      await api(t.url, `/api/v1/users/${viewerId}`, {
        method: 'PUT',
        token: t.adminToken,
        json: { password: 'viewer-password-2' },
      });
      const stale = await api(t.url, '/api/v1/feeds', { token: fresh });
      expect(stale.status).toBe(401);
      expect(stale.body.message).toContain('log in again');
      // An unrelated change (the role) leaves tokens alone.
      const current = (
        await api<{ access_token: string }>(t.url, '/api/v1/auth/login', {
          json: { ...viewerLogin, password: 'viewer-password-2' },
        })
      ).body.data.access_token;
      await api(t.url, `/api/v1/users/${viewerId}`, { method: 'PUT', token: t.adminToken, json: { role: 'viewer' } });
      expect(await reads(current)).toBe(200);
    });

    it('failed child authentications are logged (rate-limited) and, past auth.node_max_failures, answered 429 for that address', async () => {
      const logsBefore = capturedLogs.length;
      const wrong = { api_key: `CN${'q'.repeat(32)}`, api_secret: `CS${'q'.repeat(32)}` };
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1)
        statuses.push((await api(t.url, '/api/v1/cascade/heartbeat', { aksk: wrong, json: {} })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const limited = await api(t.url, '/api/v1/cascade/heartbeat', { aksk: wrong, json: {} });
      expect(limited.body).toMatchObject({ code: 429, error: 'RATE_LIMITED', data: null });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const lines = capturedLogs.slice(logsBefore).filter((line) => line.includes('child authentication failed'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ client_ip: '127.0.0.1', api_key_prefix: 'CNqqqqqqqq' });
      expect(lines[0]).not.toContain(wrong.api_secret);
    });

    it('a client x-request-id becomes the log id only when short and plain; otherwise the parent makes its own', async () => {
      const logsBefore = capturedLogs.length;
      await rawGet(t.url, '/api/v1/feeds/NOPE', { 'x-request-id': 'trace-123.abc' });
      await rawGet(t.url, '/api/v1/feeds/NOPE', { 'x-request-id': `${'x'.repeat(5000)}` });
      await rawGet(t.url, '/api/v1/feeds/NOPE', { 'x-request-id': 'forged id" <b>' });
      const ids = capturedLogs
        .slice(logsBefore)
        .map((line) => JSON.parse(line) as { reqId?: string; req?: { url?: string } })
        .filter((entry) => entry.req?.url === '/api/v1/feeds/NOPE')
        .map((entry) => entry.reqId ?? '');
      expect(ids).toHaveLength(3);
      expect(ids[0]).toBe('trace-123.abc');
      for (const id of ids.slice(1)) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('an oversized header or URL answers 431 inside the envelope', async () => {
      for (const [path, headers] of [
        ['/api/v1/feeds', { 'x-padding': 'p'.repeat(20_000) }],
        [`/api/v1/feeds?search=${'s'.repeat(20_000)}`, {}],
      ] as const) {
        const answer = await rawGet(t.url, path, headers);
        expect(answer.status).toBe(431);
        expect(JSON.parse(answer.body)).toMatchObject({ code: 431, data: null, error: 'HEADERS_TOO_LARGE' });
      }
    });

    it("the API refuses to delete the parent's own node record (the rule lives in the store)", async () => {
      const nodes = await api<{ list: Array<{ id: string; node_type: number }> }>(
        t.url,
        '/api/v1/cascade/nodes?node_type=0',
        { token: t.adminToken },
      );
      let parentId = nodes.body.data.list[0]?.id;
      if (!parentId) {
        parentId = (
          await api<{ id: string }>(t.url, '/api/v1/cascade/nodes', {
            token: t.adminToken,
            json: { node_type: 0, name: 'the-parent' },
          })
        ).body.data.id;
      }
      const refused = await api(t.url, `/api/v1/cascade/nodes/${parentId}`, { method: 'DELETE', token: t.adminToken });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ error: 'CONFLICT', data: null });
    });
  },
);

describe('cascade check on a child: a clear-text parent URL', () => {
  it('warns for http:// to another host, not for https or loopback', () => {
    expect(
      cleartextParentWarnings([
        'http://parent.example:8001',
        'https://parent.example',
        'http://127.0.0.1:8001',
        'http://localhost:8001',
        'http://[::1]:8001',
      ]),
    ).toEqual([
      'http://parent.example:8001: plain http to another host sends api_secret in clear text; use https (see docs/security.md)',
    ]);
  });
});
