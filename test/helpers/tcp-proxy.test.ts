import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let server: Server | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** An HTTP server that counts the requests it handled, behind the proxy. */
async function serverBehindProxy(): Promise<{ handled: () => number; url: string }> {
  let handled = 0;
  server = createServer((_req, res) => {
    handled++;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  proxy = await startTcpProxy({ port: (server.address() as AddressInfo).port });
  return { handled: () => handled, url: `http://127.0.0.1:${proxy.port}/` };
}

const get = (url: string): Promise<string> => fetch(url, { signal: AbortSignal.timeout(3000) }).then((r) => r.text());

describe('the TCP fault proxy', () => {
  it('passes traffic through, and with a delay still delivers it', async () => {
    const { url } = await serverBehindProxy();
    expect(await get(url)).toBe('ok');
    proxy?.setFault({ kind: 'delay', ms: 50 });
    expect(await get(url)).toBe('ok');
  });

  it('drop-responses: the server handles the request, the client gets a reset instead of the answer', async () => {
    const { url, handled } = await serverBehindProxy();
    proxy?.setFault({ kind: 'drop-responses' });
    await expect(get(url)).rejects.toThrow();
    expect(handled()).toBe(1);
    expect(proxy?.stats.droppedResponses).toBe(1);
    proxy?.setFault(null);
    expect(await get(url)).toBe('ok');
  });

  it('blackhole: nothing reaches the server; refuse: connections are reset at once', async () => {
    const { url, handled } = await serverBehindProxy();
    proxy?.setFault({ kind: 'blackhole' });
    await expect(fetch(url, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(handled()).toBe(0);
    proxy?.setRefusing(true);
    await expect(get(url)).rejects.toThrow();
    expect(proxy?.stats.refused).toBeGreaterThan(0);
    proxy?.setRefusing(false);
    expect(await get(url)).toBe('ok');
  });

  it('cutAll cuts open connections, and a new target takes new ones', async () => {
    const { url } = await serverBehindProxy();
    const agentless = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await agentless.text();
    proxy?.cutAll();
    expect(proxy?.open).toBe(0);
    proxy?.setTarget(1);
    await expect(get(url)).rejects.toThrow();
  });
});
