import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedExecutor } from '../../src/executors/feed.js';
import type { ExecutorContext, TaskPackage } from '../../src/executors/types.js';
import { followRedirects } from '../../src/net/redirects.js';

const RSS =
  '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>one</title><link>https://example.org/1</link><guid>g1</guid></item></channel></rss>';

type Recorder = { server: Server; url: string; seen: Array<{ path: string; headers: IncomingHttpHeaders }> };

/** A real origin on its own port: `/to?u=<url>` answers 302 to `u`, anything else a one-item feed. */
async function startOrigin(): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('u');
    if (target) {
      res.writeHead(302, { location: target }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const task: TaskPackage = {
  allocation_id: 'a1',
  task_id: 't1',
  task_name: 'creds',
  feeds: [],
  headers: { Authorization: 'Bearer feed-secret' },
  cookies: { session: 's1' },
};
const context: ExecutorContext = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, fetch };

describe('task credentials across redirects', () => {
  let a: Recorder;
  let b: Recorder;
  beforeAll(async () => {
    [a, b] = await Promise.all([startOrigin(), startOrigin()]);
  });
  afterAll(async () => {
    await Promise.all([a, b].map((r) => new Promise((ok) => r?.server.close(ok))));
  });

  it('sends Authorization and cookies to the feed origin and not to another origin it redirects to', async () => {
    a.seen.length = 0;
    b.seen.length = 0;
    const articles = await feedExecutor(
      { id: 'F', url: `${a.url}/to?u=${encodeURIComponent(`${b.url}/feed.xml`)}` },
      task,
      context,
    );
    expect(articles).toHaveLength(1);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]?.headers).toMatchObject({ authorization: 'Bearer feed-secret', cookie: 'session=s1' });
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]?.headers.authorization).toBeUndefined();
    expect(b.seen[0]?.headers.cookie).toBeUndefined();
    expect(b.seen[0]?.headers['user-agent']).toBe('cascade-child');
  });

  it('keeps them on a redirect within the origin, also after a detour through another origin', async () => {
    a.seen.length = 0;
    b.seen.length = 0;
    const back = `${a.url}/feed.xml`;
    await feedExecutor(
      { id: 'F', url: `${a.url}/to?u=${encodeURIComponent(`${b.url}/to?u=${encodeURIComponent(back)}`)}` },
      task,
      context,
    );
    expect(a.seen.map((s) => s.headers.authorization)).toEqual(['Bearer feed-secret', 'Bearer feed-secret']);
    expect(b.seen.map((s) => s.headers.authorization)).toEqual([undefined]);
  });

  it('drops them on a downgrade from https to http on the same host', async () => {
    // The https hop is answered here (no certificate authority in tests); what matters is what each hop is sent.
    const sent: Array<[string, Headers]> = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      sent.push([String(input), new Headers(init?.headers)]);
      return String(input).startsWith('https:')
        ? new Response(null, { status: 301, headers: { location: `http://feeds.example:443/feed.xml` } })
        : new Response(RSS);
    };
    const { url } = await followRedirects({
      fetch: recordingFetch,
      url: 'https://feeds.example/feed.xml',
      originHeaders: { authorization: 'Bearer feed-secret' },
      commonHeaders: { accept: '*/*' },
      maxRedirects: 5,
    });
    expect(url).toBe('http://feeds.example:443/feed.xml');
    expect(sent.map(([u, h]) => [u, h.get('authorization'), h.get('accept')])).toEqual([
      ['https://feeds.example/feed.xml', 'Bearer feed-secret', '*/*'],
      ['http://feeds.example:443/feed.xml', null, '*/*'],
    ]);
  });
});
