import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { ADMIN, startTestParent, type TestParent } from '../helpers/parent.js';

type OpenApi = { openapi: string; paths: Record<string, Record<string, unknown>> };

describeEachStore('API surface: 404s, prefixes, login, OpenAPI', (dialect) => {
  let t: TestParent;
  let child: { id: string; api_key: string; api_secret: string };
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    child = await t.addChild('surface-child');
    await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id: 'MP_WXS_SURFACE', mp_name: 'surface' } });
    await api(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'surface task', mps_id: [{ id: 'MP_WXS_SURFACE' }] },
    });
  });
  afterAll(async () => t?.close());

  it.each([
    ['GET', '/api/v1/no-such-thing'],
    ['GET', '/api/v1/wx/cascade/nowhere'],
    ['DELETE', '/api/v1/cascade/sync-logs'],
    ['PATCH', '/api/v1/feeds/MP_WXS_SURFACE'],
  ])('%s %s → 404 envelope', async (method, path) => {
    const response = await api(t.url, path, { method, token: t.adminToken });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 404, data: null, error: 'NOT_FOUND' });
    expect(response.body.message).toContain(path);
  });

  it('answers an unknown feed id with a 404 naming it', async () => {
    const response = await api(t.url, '/api/v1/feeds/NOPE_1', { token: t.adminToken });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 404, error: 'NOT_FOUND', data: null });
    expect(response.body.message).toContain('NOPE_1');
  });

  it.each([
    ['/feeds', 'admin'],
    ['/feeds/MP_WXS_SURFACE', 'admin'],
    ['/feeds/NOPE_2', 'admin'],
    ['/message-tasks', 'admin'],
    ['/users', 'admin'],
    ['/cascade/sync-logs?limit=5', 'admin'],
    ['/cascade/nodes', 'admin'],
    ['/feeds?limit=0', 'admin'],
  ])('both prefixes answer %s the same', async (path, who) => {
    const auth = who === 'admin' ? { token: t.adminToken } : { aksk: child };
    const modern = await api(t.url, `/api/v1${path}`, auth);
    const legacy = await api(t.url, `/api/v1/wx${path}`, auth);
    expect(legacy.status).toBe(modern.status);
    expect(legacy.body).toEqual(modern.body);
  });

  it.each(['/cascade/feeds', '/cascade/message-tasks'])(
    'the child sync route %s is paged on /api/v1 and a bare array on /api/v1/wx',
    async (path) => {
      const modern = await api<{ list: unknown[]; total: number }>(t.url, `/api/v1${path}`, { aksk: child });
      const legacy = await api<unknown[]>(t.url, `/api/v1/wx${path}`, { aksk: child });
      expect([modern.status, legacy.status]).toEqual([200, 200]);
      expect(Array.isArray(legacy.body.data)).toBe(true);
      expect(legacy.body.data).toHaveLength(modern.body.data.total);
    },
  );

  it('logs in with JSON and with a form body, on both prefixes', async () => {
    const json = await api<{ access_token: string; token_type: string }>(t.url, '/api/v1/auth/login', { json: ADMIN });
    expect(json.status).toBe(200);
    expect(json.body.data.token_type).toBe('bearer');
    const form = await api<{ access_token: string }>(t.url, '/api/v1/wx/auth/login', {
      rawBody: new URLSearchParams(ADMIN).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect((await api(t.url, '/api/v1/feeds', { token: form.body.data.access_token })).status).toBe(200);
  });

  it('rate limits repeated failed logins with 429 and Retry-After, without touching another username', async () => {
    const { login_max_failures } = t.config.auth;
    await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'target', password: 'target-password', role: 'viewer' },
    });
    for (let i = 0; i < login_max_failures; i += 1) {
      const failed = await api(t.url, '/api/v1/auth/login', { json: { username: 'target', password: `wrong-${i}` } });
      expect(failed.status).toBe(401);
    }
    const limited = await api(t.url, '/api/v1/auth/login', {
      json: { username: 'target', password: 'target-password' },
    });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 429, error: 'RATE_LIMITED', data: null });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The legacy prefix shares the limiter.
    expect(
      (await api(t.url, '/api/v1/wx/auth/login', { json: { username: 'target', password: 'target-password' } })).status,
    ).toBe(429);
    expect((await api(t.url, '/api/v1/auth/login', { json: ADMIN })).status).toBe(200);
  });

  it('serves OpenAPI 3 listing each route once, without the /wx duplicates', async () => {
    const response = await fetch(`${t.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as OpenApi;
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    expect(paths.filter((path) => path.includes('/wx/'))).toEqual([]);
    const expected: Array<[string, string]> = [
      ['/api/v1/feeds', 'get'],
      ['/api/v1/feeds', 'post'],
      ['/api/v1/feeds/{id}', 'get'],
      ['/api/v1/feeds/{id}', 'put'],
      ['/api/v1/feeds/{id}', 'delete'],
      ['/api/v1/message-tasks', 'get'],
      ['/api/v1/message-tasks', 'post'],
      ['/api/v1/message-tasks/{id}', 'put'],
      ['/api/v1/users', 'post'],
      ['/api/v1/users/{id}', 'delete'],
      ['/api/v1/cascade/sync-logs', 'get'],
      ['/api/v1/cascade/status', 'get'],
      ['/api/v1/cascade/nodes/{id}/test-connection', 'post'],
      ['/api/v1/cascade/feeds', 'get'],
      ['/api/v1/cascade/message-tasks', 'get'],
      ['/api/v1/cascade/report-result', 'post'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths['/api/v1/feeds']?.get).toMatchObject({ security: [{ bearer: [] }] });
    expect(doc.paths['/api/v1/cascade/status']?.get).toMatchObject({ security: [{ bearer: [] }] });
    expect(doc.paths['/api/v1/cascade/report-result']?.post).toMatchObject({ security: [{ aksk: [] }] });
    // Each (path, method) is an object key, so it cannot repeat; also no path differs from another only by prefix.
    expect(new Set(paths.map((path) => path.replace('/api/v1/wx/', '/api/v1/'))).size).toBe(paths.length);
  });

  it('serves the interactive docs', async () => {
    const response = await fetch(`${t.url}/api/docs`, { redirect: 'follow' });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/swagger/i);
  });
});
