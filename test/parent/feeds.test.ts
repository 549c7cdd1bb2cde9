import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import type { FeedView } from '../../src/store/feeds.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

type Page<T> = { list: T[]; total: number; page: { limit: number; offset: number } };

describeEachStore('feed management', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
  });
  afterAll(async () => t?.close());

  it('creates a feed with the caller-given id and shows it in the wire format', async () => {
    const created = await api<FeedView>(t.url, '/api/v1/feeds', {
      token: t.adminToken,
      json: { id: 'MP_WXS_123', mp_name: 'Daily News', url: 'http://127.0.0.1:1/feed.xml', sync_time: 1764235800 },
    });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      id: 'MP_WXS_123',
      mp_name: 'Daily News',
      status: 1,
      sync_time: 1764235800,
      update_time: null,
      article_count: 0,
    });
    expect(created.body.data.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const shown = await api<FeedView>(t.url, '/api/v1/feeds/MP_WXS_123', { token: t.adminToken });
    expect(shown.body.data).toEqual(created.body.data);
  });

  it('accepts an empty url but not one that is not http(s)', async () => {
    expect((await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id: 'NO_URL', url: '' } })).status).toBe(
      200,
    );
    const bad = await api(t.url, '/api/v1/feeds', {
      token: t.adminToken,
      json: { id: 'BAD_URL', url: 'file:///etc/passwd' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details?.map((d) => d.path)).toEqual(['url']);
  });

  it('generates an id when none is given', async () => {
    const created = await api<FeedView>(t.url, '/api/v1/feeds', { token: t.adminToken, json: { mp_name: 'No id' } });
    expect(created.status).toBe(200);
    expect(created.body.data.id).toMatch(/^feed_[0-9a-f-]{36}$/);
  });

  it('answers 409 CONFLICT for a duplicate id and leaves the first feed alone', async () => {
    const duplicate = await api(t.url, '/api/v1/feeds', {
      token: t.adminToken,
      json: { id: 'MP_WXS_123', mp_name: 'Impostor' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 409, error: 'CONFLICT', data: null });
    expect(duplicate.body.message).toContain('MP_WXS_123');
    const shown = await api<FeedView>(t.url, '/api/v1/feeds/MP_WXS_123', { token: t.adminToken });
    expect(shown.body.data.mp_name).toBe('Daily News');
  });

  it('lists with paging, a status filter and a case-insensitive search that treats % and _ literally', async () => {
    for (const [id, name, status] of [
      ['F_A', 'Alpha Weekly', 1],
      ['F_B', 'beta weekly', 0],
      ['F_C', '100% Gamma_x', 1],
    ] as const) {
      expect(
        (await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id, mp_name: name, status } })).status,
      ).toBe(200);
    }
    const weekly = await api<Page<FeedView>>(t.url, '/api/v1/feeds?search=WEEKLY', { token: t.adminToken });
    expect(weekly.body.data.list.map((f) => f.id).sort()).toEqual(['F_A', 'F_B']);
    const disabled = await api<Page<FeedView>>(t.url, '/api/v1/feeds?status=0', { token: t.adminToken });
    expect(disabled.body.data.list.map((f) => f.id)).toEqual(['F_B']);
    const percent = await api<Page<FeedView>>(t.url, `/api/v1/feeds?search=${encodeURIComponent('0% g')}`, {
      token: t.adminToken,
    });
    expect(percent.body.data.list.map((f) => f.id)).toEqual(['F_C']);
    const underscore = await api<Page<FeedView>>(t.url, '/api/v1/feeds?search=a_x', { token: t.adminToken });
    expect(underscore.body.data.list.map((f) => f.id)).toEqual(['F_C']);
    const noMatch = await api<Page<FeedView>>(t.url, '/api/v1/feeds?search=a_w', { token: t.adminToken });
    expect(noMatch.body.data.total).toBe(0);

    const all = await api<Page<FeedView>>(t.url, '/api/v1/feeds', { token: t.adminToken });
    const paged = await api<Page<FeedView>>(t.url, '/api/v1/feeds?limit=2&offset=1', { token: t.adminToken });
    expect(paged.body.data.total).toBe(all.body.data.total);
    expect(paged.body.data.page).toEqual({ limit: 2, offset: 1 });
    expect(paged.body.data.list).toEqual(all.body.data.list.slice(1, 3));
  });

  it('updates only the fields sent, and deletes', async () => {
    const updated = await api<FeedView>(t.url, '/api/v1/feeds/F_A', {
      method: 'PUT',
      token: t.adminToken,
      json: { status: 0, update_time: 1764235900 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({ id: 'F_A', mp_name: 'Alpha Weekly', status: 0, update_time: 1764235900 });
    const shown = await api<FeedView>(t.url, '/api/v1/feeds/F_A', { token: t.adminToken });
    expect(shown.body.data).toEqual(updated.body.data);

    const removed = await api(t.url, '/api/v1/feeds/F_A', { method: 'DELETE', token: t.adminToken });
    expect(removed.status).toBe(200);
    expect(removed.body.data).toBeNull();
    const gone = await api(t.url, '/api/v1/feeds/F_A', { token: t.adminToken });
    expect(gone.status).toBe(404);
    expect(gone.body.error).toBe('NOT_FOUND');
    const again = await api(t.url, '/api/v1/feeds/F_A', { method: 'DELETE', token: t.adminToken });
    expect(again.status).toBe(404);
    const missingUpdate = await api(t.url, '/api/v1/feeds/F_A', {
      method: 'PUT',
      token: t.adminToken,
      json: { mp_name: 'x' },
    });
    expect(missingUpdate.status).toBe(404);
  });

  it('serves ids with unusual characters through the path', async () => {
    const id = 'MP/WXS 9?';
    expect((await api(t.url, '/api/v1/feeds', { token: t.adminToken, json: { id } })).status).toBe(200);
    const shown = await api<FeedView>(t.url, `/api/v1/wx/feeds/${encodeURIComponent(id)}`, { token: t.adminToken });
    expect(shown.status).toBe(200);
    expect(shown.body.data.id).toBe(id);
  });
});
