import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';

const FIXTURE_DIR = 'fixtures/feeds';

const TYPES: Record<string, string> = {
  '.xml': 'application/rss+xml; charset=utf-8',
  '.rdf': 'application/rdf+xml; charset=utf-8',
  '.atom': 'application/atom+xml; charset=utf-8',
  '.json': 'application/feed+json; charset=utf-8',
};

export type FeedServer = { url: string; names: string[]; close(): Promise<void> };

/**
 * Serves the well-formed fixture feeds at `/feeds/<name>?n=<i>`. It sends no ETag or Last-Modified, so every
 * fetch downloads and parses the whole body (a conditional GET would make repeated URLs nearly free).
 */
export async function startFeedServer(dir = FIXTURE_DIR): Promise<FeedServer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort())
    if (!name.startsWith('broken-') && TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name)));
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://feeds').pathname.replace(/^\/feeds\//, ''));
    const body = files.get(name);
    if (!body) return void res.writeHead(404).end();
    res
      .writeHead(200, {
        'content-type': TYPES[extname(name)] as string,
        'content-length': body.length,
        'cache-control': 'no-store',
      })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    names: [...files.keys()],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function fixturesPresent(dir = FIXTURE_DIR): boolean {
  return existsSync(dir);
}
