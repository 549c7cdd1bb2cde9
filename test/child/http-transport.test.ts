import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHttpTransport } from '../../src/child/http-transport.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api?x=1`);
}

describe('node:http transport to the parent', () => {
  it('sends method, headers and body, and answers status and text', async () => {
    const seen: Array<{ method?: string; url?: string; type?: string; length?: string; body: string }> = [];
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          type: req.headers['content-type'],
          length: req.headers['content-length'],
          body,
        });
        res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":"LEASE_LOST"}');
      });
    });
    const response = await nodeHttpTransport(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"ü":1}',
      signal: new AbortController().signal,
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toBe('{"error":"LEASE_LOST"}');
    expect(seen).toEqual([{ method: 'PUT', url: '/api?x=1', type: 'application/json', length: '8', body: '{"ü":1}' }]);
  });

  it('rejects when the signal aborts once the answer has started (a long-poll cut short by a stop)', async () => {
    const abort = new AbortController();
    const url = await serve((_req, res) => res.writeHead(200).write('{"partial":', () => abort.abort()));
    const pending = nodeHttpTransport(url, { method: 'POST', headers: {}, signal: abort.signal });
    await expect(pending).rejects.toThrow(/aborted/);
  });

  it('rejects with the connection error when nothing listens', async () => {
    const url = await serve(() => undefined);
    for (const server of servers.splice(0)) await new Promise((ok) => server.close(ok));
    await expect(
      nodeHttpTransport(url, { method: 'GET', headers: {}, signal: new AbortController().signal }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
