import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FeedImportReport } from '../../src/store/feed-import.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { dumpStore } from '../helpers/store-dump.js';
import { databaseOf } from '../../src/store/store.js';

const IMPORT = '/api/v1/feeds/import';

describeEachStore('POST /feeds/import', (dialect) => {
  let t: TestParent;
  let viewerToken: string;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'importer-viewer', password: 'viewer-password-1', role: 'viewer' },
    });
    const login = await api<{ access_token: string }>(t.url, '/api/v1/auth/login', {
      json: { username: 'importer-viewer', password: 'viewer-password-1' },
    });
    viewerToken = login.body.data.access_token;
  });
  afterAll(async () => t?.close());

  const post = (json: unknown, token = t.adminToken) => api<FeedImportReport>(t.url, IMPORT, { token, json });
  const store = () => dumpStore(databaseOf(t.parent.services.store));

  it('creates each feed once; the same list again creates nothing', async () => {
    const feeds = [
      { url: 'https://one.example/feed.xml', name: 'One' },
      { url: 'https://two.example/rss', id: 'TWO' },
      { url: 'https://ONE.example/feed.xml' },
    ];
    const first = await post({ feeds });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ dry_run: false, created: 2, present: 0, duplicate: 1, invalid: 0 });
    expect(first.body.data.entries.map((e) => e.outcome)).toEqual(['created', 'created', 'duplicate']);
    const oneId = (first.body.data.entries[0] as { id?: string } | undefined)?.id ?? '';
    expect(oneId).toMatch(/^one-example-feed-xml-[0-9a-f]{10}$/);
    const shown = await api<{ mp_name: string; url: string; status: number }>(t.url, `/api/v1/feeds/${oneId}`, {
      token: t.adminToken,
    });
    expect(shown.body.data).toMatchObject({ mp_name: 'One', url: 'https://one.example/feed.xml', status: 1 });

    const before = await store();
    const again = await post({ feeds });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ created: 0, present: 2, duplicate: 1, invalid: 0 });
    expect(again.body.data.entries.slice(0, 2)).toEqual([
      { index: 0, outcome: 'present', id: oneId, url: 'https://one.example/feed.xml', match: 'url' },
      { index: 1, outcome: 'present', id: 'TWO', url: 'https://two.example/rss', match: 'id' },
    ]);
    expect(await store()).toBe(before);
  });

  it('finds a feed created by hand under its URL and keeps it as it is', async () => {
    await api(t.url, '/api/v1/feeds', {
      token: t.adminToken,
      json: { id: 'MP_WXS_HAND', mp_name: 'by hand', url: 'https://hand.example/atom' },
    });
    const result = await post({ feeds: [{ url: 'https://hand.example/atom', name: 'other name' }] });
    expect(result.body.data.entries).toEqual([
      { index: 0, outcome: 'present', id: 'MP_WXS_HAND', url: 'https://hand.example/atom', match: 'url' },
    ]);
  });

  it('refuses a list with an invalid entry whole: 400, every problem named, nothing stored', async () => {
    const before = await store();
    const result = await post({
      feeds: [
        { url: 'https://fine.example/feed' },
        { url: 'file:///etc/passwd' },
        { url: 'https://x.example/', id: 'TWO' },
        { url: 'https://y.example/', id: 'TWO' },
      ],
    });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ code: 400, error: 'VALIDATION_FAILED', data: null });
    expect(result.body.details?.map((d) => d.path)).toEqual(['feeds.1.url', 'feeds.3.id']);
    expect(result.body.message).toContain('nothing was imported');
    expect(await store()).toBe(before);
  });

  it('with skip_invalid imports the rest and reports the invalid; dry_run stores nothing', async () => {
    const feeds = [{ url: 'https://three.example/feed' }, { url: 'javascript:alert(1)' }];
    const before = await store();
    const dry = await post({ feeds, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.data).toMatchObject({ dry_run: true, created: 1, invalid: 1 });
    expect(await store()).toBe(before);

    const skipped = await post({ feeds, skip_invalid: true });
    expect(skipped.status).toBe(200);
    expect(skipped.body.data).toMatchObject({ dry_run: false, created: 1, invalid: 1 });
    expect(skipped.body.data.entries[1]).toMatchObject({
      outcome: 'invalid',
      field: 'url',
      reason: expect.stringContaining('not javascript:'),
    });
  });

  it.each([
    ['a body that is not a list', { feeds: 'https://a.example/' }, 'feeds'],
    ['an entry without url', { feeds: [{ name: 'x' }] }, 'feeds.0.url'],
    ['an unknown field', { feeds: [{ url: 'https://a.example/', colour: 'red' }] }, 'feeds.0'],
    [
      'too many entries',
      { feeds: Array.from({ length: 1001 }, (_, i) => ({ url: `https://many.example/${i}` })) },
      'feeds',
    ],
  ])('answers %s with 400 and changes nothing', async (_name, body, path) => {
    const before = await store();
    const result = await post(body);
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('VALIDATION_FAILED');
    expect(result.body.details?.some((d) => d.path.startsWith(path))).toBe(true);
    expect(await store()).toBe(before);
  });

  it('is for admins only', async () => {
    const before = await store();
    const result = await post({ feeds: [{ url: 'https://viewer.example/feed' }] }, viewerToken);
    expect(result.status).toBe(403);
    expect(await store()).toBe(before);
  });

  it('is documented in the OpenAPI document with its body and answer', async () => {
    const doc = await api(t.url, '/api/openapi.json');
    const raw = doc.body as unknown as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
    };
    const operation = raw.paths['/api/v1/feeds/import']?.post;
    expect(operation?.requestBody).toBeDefined();
    expect(operation?.responses?.['200']).toBeDefined();
  });
});
