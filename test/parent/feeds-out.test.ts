import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFeedArticles } from '../../src/executors/feed-parse.js';
import type { Store } from '../../src/store/store.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type Urls = { rss: string; atom: string; json: string; public: boolean };

const TRICKY = [
  {
    title: 'Ampersands & <tags> "quotes" \'apostrophes\' ]]> 中文标题 😀',
    url: 'https://example.com/a?x=1&y=<2>',
    content: '<p>HTML <b>bold</b> &amp; <a href="https://e.com/?a=1&b=2">link</a> ]]></p>',
  },
  { title: 'Plain second', url: 'https://example.com/b', content: '' },
  { title: 'Third, oldest', url: 'https://example.com/c#frag', content: '<script>alert(1)</script>' },
];

async function seedArticles(store: Store, feedId: string): Promise<void> {
  const now = Date.now();
  await databaseOf(store)
    .insertInto('articles')
    .values(
      TRICKY.map((a, i) => ({
        id: `${feedId}-art-${i}`,
        mp_id: feedId,
        title: a.title,
        url: a.url,
        pic_url: '',
        description: `summary ${i}`,
        content: a.content,
        content_markdown: '',
        publish_time: 1_790_000_000 - i * 3600,
        allocation_id: null,
        node_id: null,
        created_at: now,
        updated_at: now - i,
      })),
    )
    .execute();
}

describe('feeds out', () => {
  let t: TestParent;
  let feedId: string;
  let taskId: string;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false, 'output.cache_seconds': 120 } });
    const store = t.parent.services.store;
    const feeds = await seedFeeds(store, 2, 'MP_OUT_');
    feedId = feeds[0]!;
    await seedArticles(store, feedId);
    taskId = await seedTask(store, feeds, { name: 'Merged' });
  });
  afterAll(() => t.close());

  const urls = async (query: string) =>
    (await api<Urls>(t.url, `/api/v1/feed-urls${query}`, { token: t.adminToken })).body.data;

  for (const format of ['rss', 'atom', 'json'] as const) {
    it(`${format}: parses back with Cascade's own feed parser to the same titles, links and dates, newest first`, async () => {
      const response = await fetch((await urls(`?feed_id=${feedId}`))[format]);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        format === 'json'
          ? /^application\/feed\+json/
          : format === 'rss'
            ? /^application\/rss\+xml/
            : /^application\/atom\+xml/,
      );
      expect(response.headers.get('cache-control')).toBe('private, max-age=120');
      const body = await response.text();
      const parsed = parseFeedArticles(feedId, body, response.headers.get('content-type') ?? '');
      expect(parsed.map((a) => a.title)).toEqual(TRICKY.map((a) => a.title));
      expect(parsed.map((a) => a.url)).toEqual(TRICKY.map((a) => a.url));
      expect(parsed.map((a) => a.publish_time)).toEqual(TRICKY.map((_, i) => 1_790_000_000 - i * 3600));
      expect(parsed[0]?.content).toContain('<b>bold</b>');
      if (format === 'json') expect(JSON.parse(body).version).toBe('https://jsonfeed.org/version/1.1');
    });
  }

  it('304 on a repeated request with If-None-Match or If-Modified-Since', async () => {
    const url = (await urls(`?feed_id=${feedId}`)).atom;
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await fetch(url, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    expect((await fetch(url, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });

  it('a private feed without a token, or with a rotated one, gets 401; the admin JWT is not a feed token', async () => {
    const path = `/feeds/${feedId}.rss`;
    expect((await fetch(`${t.url}${path}`)).status).toBe(401);
    expect((await fetch(`${t.url}${path}?token=${t.adminToken}`)).status).toBe(401);
    const old = (await urls(`?feed_id=${feedId}`)).rss;
    expect((await fetch(old)).status).toBe(200);
    const rotated = await api<Urls>(t.url, '/api/v1/feed-token/rotate', { method: 'POST', token: t.adminToken });
    expect(rotated.status).toBe(200);
    expect((await fetch(old)).status).toBe(401);
    expect((await fetch((await urls(`?feed_id=${feedId}`)).rss)).status).toBe(200);
  });

  it('a task feed merges its feeds; all lists everything; limit bounds the list; unknown ids are 404', async () => {
    const merged = await fetch((await urls(`?task_id=${taskId}`)).json);
    const doc = (await merged.json()) as { title: string; items: unknown[] };
    expect(doc.title).toBe('Merged');
    expect(doc.items).toHaveLength(3);
    const all = (await urls('')).rss.replace('all.rss?', 'all.rss?limit=1&');
    expect(parseFeedArticles('x', await (await fetch(all)).text(), '')).toHaveLength(1);
    const token = new URL((await urls('')).rss).searchParams.get('token')!;
    expect((await fetch(`${t.url}/feeds/nope.rss?token=${token}`)).status).toBe(404);
    expect((await fetch(`${t.url}/feeds/${feedId}.rss?token=${token}&limit=501`)).status).toBe(400);
    expect((await fetch(`${t.url}/feeds/${feedId}.html?token=${token}`)).status).toBe(400);
  });
  it("an admin may ask for another user's URLs (`user`), a viewer only for their own; unknown, disabled or empty names are refused", async () => {
    const created = await api<{ id: string }>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'feed-reader', password: 'reader-password-1', role: 'viewer' },
    });
    expect(created.status).toBe(200);
    const theirs = await api<Urls>(t.url, '/api/v1/feed-urls?user=feed-reader', { token: t.adminToken });
    expect(theirs.status).toBe(200);
    const token = (u: string) => new URL(u).searchParams.get('token');
    expect(token(theirs.body.data.rss)).not.toBe(token((await urls('')).rss));
    expect((await fetch(theirs.body.data.rss)).status).toBe(200);

    const login = await api<{ access_token: string }>(t.url, '/api/v1/auth/login', {
      json: { username: 'feed-reader', password: 'reader-password-1' },
    });
    const viewer = login.body.data.access_token;
    const own = await api<Urls>(t.url, '/api/v1/feed-urls?user=feed-reader', { token: viewer });
    expect(token(own.body.data.rss)).toBe(token(theirs.body.data.rss));
    const other = await api(t.url, '/api/v1/feed-urls?user=admin', { token: viewer });
    expect(other.status).toBe(403);

    expect((await api(t.url, '/api/v1/feed-urls?user=nobody', { token: t.adminToken })).status).toBe(404);
    expect((await api(t.url, '/api/v1/feed-urls?user=', { token: t.adminToken })).status).toBe(400);
    await api(t.url, `/api/v1/users/${created.body.data.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { is_active: false },
    });
    const disabled = await api<unknown>(t.url, '/api/v1/feed-urls?user=feed-reader', { token: t.adminToken });
    expect(disabled.status).toBe(404);
    expect(disabled.body.message).toContain("User 'feed-reader' does not exist or is disabled");
  });
});

describe('feeds out with output.public', () => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false, 'output.public': true } });
    const [feed] = await seedFeeds(t.parent.services.store, 1, 'MP_PUB_');
    await seedArticles(t.parent.services.store, feed!);
  });
  afterAll(() => t.close());

  it('serves anyone, and the subscription URLs carry no token', async () => {
    const urls = (await api<Urls>(t.url, '/api/v1/feed-urls', { token: t.adminToken })).body.data;
    expect(urls.public).toBe(true);
    expect(urls.rss).toBe(`${t.url}/feeds/all.rss`);
    const response = await fetch(urls.rss);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
  });
});
