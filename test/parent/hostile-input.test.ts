import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api, type ApiOptions } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { dumpStore } from '../helpers/store-dump.js';
import { databaseOf } from '../../src/store/store.js';

type OpenApi = {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ name: string; in: string }>; security?: Array<Record<string, unknown>> }>
  >;
};

/** JSON nested `depth` levels deep: {"a":{"a":…}} (written out, since JSON.stringify itself recurses). */
const deeplyNested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describeEachStore('hostile input answers 400, never 500, and changes nothing', (dialect) => {
  let t: TestParent;
  let child: { id: string; api_key: string; api_secret: string };
  let listRoutes: Array<{ path: string; auth: ApiOptions }> = [];

  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    child = await t.addChild('hostile-child');
    await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id: 'HOSTILE_FEED', mp_name: 'hostile' } });
    const spec = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as OpenApi;
    listRoutes = Object.entries(spec.paths)
      .filter(([, methods]) => methods.get?.parameters?.some((p) => p.in === 'query' && p.name === 'offset'))
      .map(([path, methods]) => ({
        path,
        auth:
          methods.get?.security?.some((s) => 'aksk' in s) ||
          path.startsWith('/api/v1/cascade/feeds') ||
          path.startsWith('/api/v1/cascade/message-tasks')
            ? { aksk: child }
            : { token: t.adminToken },
      }));
  });
  afterAll(async () => t?.close());

  it('finds the list routes in the OpenAPI document (the table below is not empty)', () => {
    expect(listRoutes.length).toBeGreaterThanOrEqual(8);
  });

  it('offset=1e20 on every list route → 400 naming querystring.offset', async () => {
    for (const route of listRoutes) {
      const response = await api(t.url, `${route.path}?offset=1e20`, route.auth);
      expect(response.status, `${route.path}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body).toMatchObject({ code: 400, data: null, error: 'VALIDATION_FAILED' });
      expect(response.body.details?.map((d) => d.path)).toContain('querystring.offset');
    }
  });

  it.each([
    { where: 'the unauthenticated login', path: '/api/v1/auth/login', auth: () => ({}) },
    { where: 'an admin body', path: '/api/v1/feeds', auth: () => ({ token: t.adminToken }) },
    { where: 'a child body', path: '/api/v1/cascade/report-completion', auth: () => ({ aksk: child }) },
  ])('JSON nested 5,000 deep on $where → 400, the parent keeps answering', async ({ path, auth }) => {
    const before = await dumpStore(databaseOf(t.parent.services.store));
    const response = await api(t.url, path, {
      ...auth(),
      rawBody: deeplyNested(5000),
      contentType: 'application/json',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body).toMatchObject({
      code: 400,
      data: null,
      error: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ message: expect.stringContaining('levels deep') as string })],
    });
    expect((await api(t.url, '/healthz')).status).toBe(200);
    expect(await dumpStore(databaseOf(t.parent.services.store))).toBe(before);
  });

  it.each([
    {
      field: 'publish_time',
      path: '/api/v1/cascade/upload-articles',
      json: { allocation_id: 'a1', articles: [{ id: 'x1', mp_id: 'HOSTILE_FEED', publish_time: 1e300 }] },
      detail: 'articles.0.publish_time',
    },
    {
      field: 'article_count',
      path: '/api/v1/cascade/report-completion',
      json: {
        allocation_id: 'a1',
        task_id: 't1',
        results: [{ mp_id: 'HOSTILE_FEED', status: 'success', article_count: 1e300 }],
      },
      detail: 'results.0.article_count',
    },
    {
      field: 'the total article_count',
      path: '/api/v1/cascade/report-completion',
      json: { allocation_id: 'a1', task_id: 't1', results: [], article_count: 1e300 },
      detail: 'article_count',
    },
  ])('$field of 1e300 → 400 naming it, store unchanged', async ({ path, json, detail }) => {
    const before = await dumpStore(databaseOf(t.parent.services.store));
    const response = await api(t.url, path, { aksk: child, json });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.details?.map((d) => d.path)).toContain(detail);
    expect(await dumpStore(databaseOf(t.parent.services.store))).toBe(before);
  });

  it('a feed sync_time past year 9999 → 400 (it is stored as milliseconds in a bigint)', async () => {
    const response = await api(t.url, '/api/v1/feeds/HOSTILE_FEED', {
      method: 'PUT',
      token: t.adminToken,
      json: { sync_time: 1e17 },
    });
    expect(response.status).toBe(400);
    expect(response.body.details?.map((d) => d.path)).toContain('sync_time');
  });
});
