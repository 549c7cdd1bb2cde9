import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer, type FixtureServer } from '../../src/demo/fixture-server.js';
import { createFeedExecutor, feedExecutor } from '../../src/executors/feed.js';
import {
  PermanentFeedError,
  RetryLaterError,
  type ExecutorContext,
  type HttpValidators,
  type PackageFeed,
  type TaskPackage,
} from '../../src/executors/types.js';

const logger = pino({ level: 'silent' });
const task: TaskPackage = { allocation_id: 'a1', task_id: 't1', task_name: 'test', feeds: [] };
const context = (extra: Partial<ExecutorContext> = {}): ExecutorContext => ({
  logger,
  signal: new AbortController().signal,
  fetch,
  ...extra,
});

let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer();
});
afterAll(async () => {
  await server.close();
});

describe('feed executor against the fixture server', () => {
  it('parses every well-formed fixture into articles with stable, unique ids', async () => {
    const good = server.feeds.filter((f) => !f.broken);
    expect(good.length).toBeGreaterThanOrEqual(20);
    for (const fixture of good) {
      const feed: PackageFeed = { id: `F_${fixture.name}`, url: fixture.url };
      const first = await feedExecutor(feed, task, context());
      const second = await feedExecutor(feed, task, context());
      if (fixture.name !== 'rss2-empty.xml') expect(first.length, fixture.name).toBeGreaterThan(0);
      expect(new Set(first.map((a) => a.id)).size, fixture.name).toBe(first.length);
      expect(second.map((a) => a.id)).toEqual(first.map((a) => a.id));
      for (const article of first) {
        expect(article.mp_id).toBe(feed.id);
        expect(article.id).toMatch(/^[0-9a-f]{40}$/);
        expect(article.title.length).toBeGreaterThan(0);
        expect(Number.isInteger(article.publish_time)).toBe(true);
      }
    }
  });

  it('maps fields: html content, plain-text rendering, picture, publish time in seconds', async () => {
    const [article] = await feedExecutor(
      { id: 'TECH', url: `${server.url}/feeds/rss2-tech-news.xml` },
      task,
      context(),
    );
    expect(article).toMatchObject({
      title: 'tech news: release #1',
      url: 'https://example.org/tech-news/posts/1',
      pic_url: 'https://example.org/tech-news/posts/1.jpg',
      content_markdown: 'Body of release 1.',
      publish_time: Date.UTC(2026, 9, 1, 8, 15) / 1000,
    });
    expect(article?.content).toContain('<strong>release</strong>');
    const [json] = await feedExecutor({ id: 'J', url: `${server.url}/feeds/jsonfeed11-photos.json` }, task, context());
    expect(json?.pic_url).toBe('https://example.org/photos/posts/1/photo.jpg');
  });

  it('fails broken feeds with a reason', async () => {
    await expect(
      feedExecutor({ id: 'H', url: `${server.url}/feeds/broken-html-page.html` }, task, context()),
    ).rejects.toThrow('not a feed: got text/html');
    await expect(
      feedExecutor({ id: 'M', url: `${server.url}/feeds/broken-malformed.xml` }, task, context()),
    ).rejects.toThrow(/^not a feed: /);
    await expect(feedExecutor({ id: 'N', url: `${server.url}/status/404` }, task, context())).rejects.toThrow(
      'HTTP 404',
    );
    await expect(feedExecutor({ id: 'U', url: 'ftp://nowhere' }, task, context())).rejects.toThrow('no http(s) url');
  });

  it('sends conditional GET with remembered validators and treats 304 as success with no articles', async () => {
    const store = new Map<string, HttpValidators>();
    const validators = {
      get: (id: string) => store.get(id),
      set: (id: string, v: HttpValidators) => void store.set(id, v),
    };
    const feed = { id: 'COND', url: `${server.url}/feeds/atom-release-notes.atom` };
    const before = server.notModified.get('feeds/atom-release-notes.atom') ?? 0;
    expect((await feedExecutor(feed, task, context({ validators }))).length).toBe(7);
    expect(store.get('COND')?.etag).toMatch(/^"/);
    const lines: string[] = [];
    const infoLogger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    expect(await feedExecutor(feed, task, context({ validators, logger: infoLogger }))).toEqual([]);
    expect(server.notModified.get('feeds/atom-release-notes.atom')).toBe(before + 1);
    // Logged at info, so "0 articles" is visibly a 304 with the default log level.
    expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string; feed_id: string })).toContainEqual(
      expect.objectContaining({ level: 30, feed_id: 'COND', msg: expect.stringContaining('304') }),
    );
  });

  it('signals "retry later" with the wait a 429 or 503 names in Retry-After; without it the error is only transient', async () => {
    for (const [status, seconds] of [
      [429, 7],
      [503, 2],
    ] as const) {
      const error = await feedExecutor(
        { id: 'LATER', url: `${server.url}/retry-after/${seconds}?status=${status}&refusals=99` },
        task,
        context(),
      ).catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(RetryLaterError);
      expect((error as RetryLaterError).retryAfterMs).toBe(seconds * 1000);
      expect((error as Error).message).toContain(`HTTP ${status}`);
    }
    for (const status of [429, 503]) {
      const error = await feedExecutor({ id: 'PLAIN', url: `${server.url}/status/${status}` }, task, context()).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(RetryLaterError);
      expect(error).not.toBeInstanceOf(PermanentFeedError);
    }
  });

  it('follows up to 5 redirects and fails past the limit', async () => {
    const ok = await feedExecutor({ id: 'R5', url: `${server.url}/redirect/5?to=rss2-podcast.xml` }, task, context());
    expect(ok.length).toBe(4);
    await expect(feedExecutor({ id: 'R6', url: `${server.url}/redirect/6` }, task, context())).rejects.toThrow(
      'too many redirects',
    );
  });

  it('aborts a body past the size limit', async () => {
    const small = createFeedExecutor({ timeoutMs: 20_000, maxBytes: 1024 * 1024, maxRedirects: 5 });
    await expect(small({ id: 'BIG', url: `${server.url}/huge` }, task, context())).rejects.toThrow('body too large');
    const tiny = createFeedExecutor({ timeoutMs: 20_000, maxBytes: 1024, maxRedirects: 5 });
    await expect(tiny({ id: 'LEN', url: `${server.url}/feeds/rss2-long.xml` }, task, context())).rejects.toThrow(
      'body too large',
    );
  });

  it('times out a feed that never answers', async () => {
    const quick = createFeedExecutor({ timeoutMs: 300, maxBytes: 1024 * 1024, maxRedirects: 5 });
    await expect(quick({ id: 'HANG', url: `${server.url}/hang` }, task, context())).rejects.toThrow(
      'timed out after 0.3 s',
    );
  });

  it('sends the task headers and cookies on every request', async () => {
    const sent: Array<Record<string, string>> = [];
    const recordingFetch: typeof fetch = (input, init) => {
      sent.push({ ...(init?.headers as Record<string, string>) });
      return fetch(input, init);
    };
    const withHeaders: TaskPackage = {
      ...task,
      headers: { 'X-Token': 'abc' },
      cookies: '{"session":"s1","lang":"zh"}',
    };
    await feedExecutor(
      { id: 'E', url: `${server.url}/redirect/1?to=rss2-podcast.xml` },
      withHeaders,
      context({ fetch: recordingFetch }),
    );
    expect(sent).toHaveLength(2);
    for (const headers of sent) expect(headers).toMatchObject({ 'x-token': 'abc', cookie: 'session=s1; lang=zh' });
  });
});
