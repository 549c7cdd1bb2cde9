import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleFeedsOpml } from './opml.js';

/** fixtures/feeds of this repository, found from src/demo or dist/src/demo. */
export function defaultFixtureDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'fixtures', 'feeds');
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('fixtures/feeds not found next to the Cascade sources');
}

const CONTENT_TYPES: Record<string, string> = {
  '.xml': 'application/rss+xml; charset=utf-8',
  '.rdf': 'application/rdf+xml; charset=utf-8',
  '.atom': 'application/atom+xml; charset=utf-8',
  '.json': 'application/feed+json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export type FixtureFeed = { name: string; url: string; broken: boolean };

export type FixtureServer = {
  url: string;
  feeds: FixtureFeed[];
  /** Requests per path (feed name or test route), to prove what was fetched. */
  hits: Map<string, number>;
  /** Answers per path that were 304 Not Modified. */
  notModified: Map<string, number>;
  /** When each `/retry-after/…` URL (path and query) was asked, in ms since the epoch: a retry's timing. */
  retryAfterAsks: Map<string, number[]>;
  /** Delay every answer by this many milliseconds (to keep work in flight); a lower value releases held answers. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
};

type Fixture = { body: Buffer; contentType: string; etag: string };

/**
 * A local HTTP server for the sample feeds: `/feeds/<file>` with ETag and Last-Modified (so conditional GET
 * works), `/feeds.opml` (an OPML list of them all), plus test routes: `/redirect/<n>` (a chain of n redirects ending
 * at a feed), `/huge` (an endless body), `/hang` (never answers), `/status/<code>`, and `/retry-after/<s>?status=429
 * &refusals=1&then=<file>` (that many refusals with `Retry-After: <s>`, then the feed). Listens on 127.0.0.1, on `port`
 * (default 0: any free port).
 */
export async function startFixtureServer(
  options: { dir?: string; delayMs?: number; port?: number } = {},
): Promise<FixtureServer> {
  const dir = resolve(options.dir ?? defaultFixtureDir());
  const fixtures = new Map<string, Fixture>();
  for (const name of readdirSync(dir).sort()) {
    const body = readFileSync(join(dir, name));
    fixtures.set(name, {
      body,
      contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`,
    });
  }
  let delayMs = options.delayMs ?? 0;
  const hits = new Map<string, number>();
  const notModified = new Map<string, number>();
  const retryAfterAsks = new Map<string, number[]>();
  const hanging = new Set<ServerResponse>();
  // Answers held back by the delay; lowering the delay lets them go at once.
  const delayed = new Set<() => void>();
  const count = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const [, route, arg] = url.pathname.split('/');
    count(hits, arg ? `${route}/${arg}` : String(route));
    if (route === 'hang') return void hanging.add(res);
    if (delayMs > 0) {
      await new Promise<void>((resolve) => {
        const release = (): void => {
          clearTimeout(timer);
          delayed.delete(release);
          resolve();
        };
        const timer = setTimeout(release, delayMs);
        delayed.add(release);
      });
    }
    if (route === 'feeds' && arg && fixtures.has(arg)) return serveFixture(req, res, arg, fixtures.get(arg) as Fixture);
    if (route === 'feeds.opml' && !arg)
      return void res.writeHead(200, { 'content-type': 'text/x-opml; charset=utf-8' }).end(sampleFeedsOpml(feeds));
    if (route === 'redirect') {
      const left = Number(arg ?? 0);
      const target =
        left > 1 ? `/redirect/${left - 1}` : `/feeds/${url.searchParams.get('to') ?? 'rss2-tech-news.xml'}`;
      res.writeHead(302, { location: target + (left > 1 ? url.search : '') }).end();
      return;
    }
    if (route === 'retry-after') {
      const key = url.pathname + url.search;
      const asks = [...(retryAfterAsks.get(key) ?? []), Date.now()];
      retryAfterAsks.set(key, asks);
      if (asks.length <= Number(url.searchParams.get('refusals') ?? 1)) {
        return void res
          .writeHead(Number(url.searchParams.get('status') ?? 429), {
            'retry-after': String(arg ?? '1'),
            'content-type': 'text/plain',
          })
          .end('later');
      }
      const then = url.searchParams.get('then') ?? 'rss2-tech-news.xml';
      return serveFixture(req, res, then, fixtures.get(then) as Fixture);
    }
    if (route === 'huge') return streamEndless(res);
    if (route === 'status')
      return void res.writeHead(Number(arg) || 500, { 'content-type': 'text/plain' }).end('status route');
    if (route === 'echo-headers')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such fixture');
  };

  const serveFixture = (req: IncomingMessage, res: ServerResponse, name: string, fixture: Fixture): void => {
    const lastModified = 'Thu, 01 Oct 2026 00:00:00 GMT';
    if (
      req.headers['if-none-match'] === fixture.etag ||
      (!req.headers['if-none-match'] && req.headers['if-modified-since'] === lastModified)
    ) {
      count(notModified, `feeds/${name}`);
      res.writeHead(304, { etag: fixture.etag, 'last-modified': lastModified }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': fixture.contentType,
      'content-length': fixture.body.length,
      etag: fixture.etag,
      'last-modified': lastModified,
    });
    res.end(fixture.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const feeds: FixtureFeed[] = [...fixtures.keys()].map((name) => ({
    name,
    url: `${base}/feeds/${name}`,
    broken: name.startsWith('broken-'),
  }));
  return {
    url: base,
    feeds,
    hits,
    notModified,
    retryAfterAsks,
    setDelayMs(ms) {
      const lowered = ms < delayMs;
      delayMs = ms;
      if (lowered) for (const release of [...delayed]) release();
    },
    async close() {
      for (const release of [...delayed]) release();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Writes an RSS-looking body forever (no content-length) until the client goes away. */
function streamEndless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/rss+xml' });
  res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>');
  const chunk = `<item><title>${'x'.repeat(64 * 1024)}</title></item>`;
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}
