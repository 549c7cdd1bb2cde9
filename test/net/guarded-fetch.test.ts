import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedExecutor } from '../../src/executors/feed.js';
import { DEFAULT_FETCH_LIMITS } from '../../src/executors/http-fetch.js';
import { PermanentFeedError } from '../../src/executors/types.js';
import { AddressRefusedError, networkPolicy } from '../../src/net/address-policy.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { checkUrl } from '../../src/net/guarded-lookup.js';

const RSS =
  '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>one</title><link>https://example.org/1</link><guid>g1</guid></item></channel></rss>';

describe('guarded fetch', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) return void res.writeHead(302, { location: to }).end();
      if (req.url === '/gz')
        return void res
          .writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' })
          .end(gzipSync(RSS));
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  const closed = createGuardedFetch(networkPolicy({ allow_private: false, allow_cidrs: [] }));
  const loopback = createGuardedFetch(networkPolicy({ allow_private: false, allow_cidrs: ['127.0.0.1'] }));

  it('refuses loopback by default before connecting, by literal, by name and in IPv4-mapped form', async () => {
    const before = connections;
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://2130706433:${port}/`,
      `http://[::1]:${port}/`,
    ]) {
      const refused = closed(url, { redirect: 'manual' });
      await expect(refused, url).rejects.toBeInstanceOf(AddressRefusedError);
      await expect(refused, url).rejects.toThrow(/is not allowed \((loopback); set network\.allow_private/);
    }
    expect(connections).toBe(before);
  });

  it('refuses link-local metadata with a clear reason even when private addresses are allowed', async () => {
    const open = createGuardedFetch(networkPolicy({ allow_private: true, allow_cidrs: [] }));
    await expect(open('http://169.254.169.254/latest/meta-data/')).rejects.toThrow(
      'address 169.254.169.254 is not allowed (link-local, where cloud metadata lives; refused always)',
    );
    await expect(open('http://[fe80::1]/')).rejects.toThrow('address fe80::1 is not allowed');
    await expect(
      checkUrl('http://169.254.169.254/', networkPolicy({ allow_private: true, allow_cidrs: [] })),
    ).rejects.toThrow('address 169.254.169.254 is not allowed');
    await expect(open('file:///etc/passwd')).rejects.toThrow('file: URLs are not allowed');
  });

  it('reaches an allowed address and decodes the body as fetch does', async () => {
    const plain = await loopback(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe(RSS);
    const gz = await loopback(`http://127.0.0.1:${port}/gz`);
    expect(await gz.text()).toBe(RSS);
  });

  it('checks every redirect hop: an allowed feed cannot redirect to a refused address', async () => {
    const before = connections;
    const url = `http://127.0.0.1:${port}/?to=${encodeURIComponent(`http://localhost:${port}/`)}`;
    // localhost resolves to 127.0.0.1 (allowed) or ::1 (not listed): either way it is checked, and ::1 is refused.
    const viaName = await loopback(url).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    expect([200, expect.stringMatching(/localhost: address ::1 is not allowed/)]).toContainEqual(viaName);
    await expect(
      loopback(`http://127.0.0.1:${port}/?to=${encodeURIComponent('http://169.254.169.254/')}`),
    ).rejects.toThrow('address 169.254.169.254 is not allowed');
    await expect(
      loopback(`http://127.0.0.1:${port}/?to=${encodeURIComponent(`http://10.0.0.1:${port}/`)}`),
    ).rejects.toThrow('address 10.0.0.1 is not allowed');
    expect(connections).toBeGreaterThan(before);
  });

  it('makes a refused feed fail for good with the policy reason', async () => {
    const executor = createFeedExecutor(DEFAULT_FETCH_LIMITS);
    const context = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, fetch: closed };
    const failure = executor(
      { id: 'F', url: `http://127.0.0.1:${port}/` },
      { allocation_id: 'a', task_id: 't', task_name: 'n', feeds: [] },
      context,
    );
    await expect(failure).rejects.toBeInstanceOf(PermanentFeedError);
    await expect(failure).rejects.toThrow(`address 127.0.0.1 is not allowed`);
    const redirected = executor(
      { id: 'F', url: `http://127.0.0.1:${port}/?to=${encodeURIComponent('http://169.254.169.254/x')}` },
      { allocation_id: 'a', task_id: 't', task_name: 'n', feeds: [] },
      { ...context, fetch: loopback },
    );
    await expect(redirected).rejects.toThrow('address 169.254.169.254 is not allowed');
  });
});
