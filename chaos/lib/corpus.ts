import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrng } from './prng.js';

/**
 * A generated corpus: feeds whose every article is known, so the end of a run can say exactly which article is
 * missing or stored twice. Each feed answers with an ETag and Last-Modified that change whenever it grows, so
 * children make conditional requests and a validator kept too early shows up as a missing article.
 */
export type Corpus = {
  readonly url: string;
  readonly feeds: ReadonlyArray<{ id: string; url: string }>;
  /** Adds `count` articles to feed `index` (a new ETag from then on). */
  grow(index: number, count: number): void;
  /** Every article link the feed has published so far. */
  articleLinks(index: number): string[];
  readonly requests: number;
  readonly notModified: number;
  close(): Promise<void>;
};

type CorpusFeed = { id: string; articles: number; delayMs: number; lastModifiedMs: number };

function chaosFeedId(index: number): string {
  return `CHAOS_FEED_${String(index).padStart(3, '0')}`;
}

export async function startCorpus(options: { seed: number; feeds: number }): Promise<Corpus> {
  const prng = createPrng(options.seed ^ 0x5bd1e995);
  const start = Date.UTC(2026, 0, 1);
  // Each feed answers after its own delay, so fetches are in flight when processes die.
  const feeds: CorpusFeed[] = Array.from({ length: options.feeds }, (_, i) => ({
    id: chaosFeedId(i),
    articles: prng.int(3, 8),
    delayMs: prng.int(200, 1200),
    lastModifiedMs: start,
  }));
  let requests = 0;
  let notModified = 0;
  let base = '';
  const link = (feed: CorpusFeed, n: number): string => `${base}/articles/${feed.id}/${n}`;
  const etag = (feed: CorpusFeed): string => `"${feed.id}-${feed.articles}"`;
  const rss = (feed: CorpusFeed): string => {
    const items = Array.from({ length: feed.articles }, (_, n) => {
      const published = new Date(start + n * 3_600_000).toUTCString();
      return `<item><title>${feed.id} article ${n}</title><link>${link(feed, n)}</link><guid isPermaLink="false">${feed.id}-${n}</guid><pubDate>${published}</pubDate><description>Article ${n} of ${feed.id}.</description></item>`;
    });
    return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${feed.id}</title><link>${base}</link><description>chaos corpus</description>${items.join('')}</channel></rss>`;
  };

  const server: Server = createServer((req, res) => {
    requests++;
    const match = /^\/feeds\/(\d+)$/.exec(req.url ?? '');
    const feed = match ? feeds[Number(match[1])] : undefined;
    if (!feed) return void res.writeHead(404).end();
    // The answer reflects the feed as it is when the answer is written, as a real server would.
    setTimeout(() => {
      const lastModified = new Date(feed.lastModifiedMs).toUTCString();
      if (
        req.headers['if-none-match'] === etag(feed) ||
        (!req.headers['if-none-match'] && req.headers['if-modified-since'] === lastModified)
      ) {
        notModified++;
        return void res.writeHead(304, { etag: etag(feed), 'last-modified': lastModified }).end();
      }
      const body = rss(feed);
      res
        .writeHead(200, {
          'content-type': 'application/rss+xml; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          etag: etag(feed),
          'last-modified': lastModified,
        })
        .end(body);
    }, feed.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    feeds: feeds.map((f, i) => ({ id: f.id, url: `${base}/feeds/${i}` })),
    grow(index, count) {
      const feed = feeds[index];
      if (!feed) return;
      feed.articles += count;
      feed.lastModifiedMs += 60_000;
    },
    articleLinks(index) {
      const feed = feeds[index];
      return feed ? Array.from({ length: feed.articles }, (_, n) => link(feed, n)) : [];
    },
    get requests() {
      return requests;
    },
    get notModified() {
      return notModified;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
