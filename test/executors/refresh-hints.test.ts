import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshHintsField } from '../../src/child/run-allocation.js';
import { feedExecutor } from '../../src/executors/feed.js';
import type { ExecutorContext, FeedRefreshHints, TaskPackage } from '../../src/executors/types.js';

/** The child reads what a feed says about its own rhythm and reports it with the result (docs/refresh.md). */
const RSS = `<?xml version="1.0"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
  <channel><title>t</title><link>https://example.org/</link><description>d</description><ttl>90</ttl>
    <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
    <item><title>one</title><guid>1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>
  </channel>
</rss>`;
const ATOM = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:a</id><updated>2026-11-30T08:00:00Z</updated>
  <entry><title>e</title><id>urn:e</id><updated>2026-11-30T08:00:00Z</updated></entry></feed>`;

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/rss')
      response
        .writeHead(200, { 'content-type': 'application/rss+xml', 'cache-control': 'public, max-age=600' })
        .end(RSS);
    else if (request.url === '/atom') response.writeHead(200, { 'content-type': 'application/atom+xml' }).end(ATOM);
    else response.writeHead(304, { 'cache-control': 'max-age=1200' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const task: TaskPackage = { allocation_id: 'a1', task_id: 't1', task_name: 'test', feeds: [] };
function recorder() {
  const seen = new Map<string, FeedRefreshHints>();
  const context: ExecutorContext = {
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    fetch,
    refreshHints: { set: (id, hints) => void seen.set(id, hints) },
  };
  return { seen, context };
}

describe('refresh hints', () => {
  it('reads max-age, RSS ttl (minutes) and sy:updatePeriod / sy:updateFrequency', async () => {
    const { seen, context } = recorder();
    expect(await feedExecutor({ id: 'R', url: `${base}/rss` }, task, context)).toHaveLength(1);
    expect(seen.get('R')).toEqual({ maxAgeSeconds: 600, ttlSeconds: 5400, updatePeriodSeconds: 1800 });
    expect(refreshHintsField(seen.get('R'))).toEqual({
      refresh_hints: { max_age_seconds: 600, ttl_seconds: 5400, update_period_seconds: 1800 },
    });
  });

  it('a 304 still reports its max-age; a feed that declares nothing adds nothing to its result', async () => {
    const { seen, context } = recorder();
    expect(
      await feedExecutor({ id: 'N', url: `${base}/unchanged`, etag: '"x"' }, task, {
        ...context,
        validators: { get: () => ({ etag: '"x"' }), set: () => undefined },
      }),
    ).toEqual([]);
    expect(seen.get('N')).toEqual({ maxAgeSeconds: 1200 });
    await feedExecutor({ id: 'A', url: `${base}/atom` }, task, context);
    expect(refreshHintsField(seen.get('A'))).toEqual({});
    expect(refreshHintsField(undefined)).toEqual({});
    expect(refreshHintsField({ maxAgeSeconds: 0.2, ttlSeconds: Number.NaN, updatePeriodSeconds: 1e12 })).toEqual({
      refresh_hints: { update_period_seconds: 315_360_000 },
    });
  });
});
