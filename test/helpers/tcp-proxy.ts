import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type TcpProxy = {
  /** `127.0.0.1` port the proxy listens on (port 0 at start, so never a fixed one). */
  readonly port: number;
  /** Connections accepted and forwarded since the start (refused ones not counted). */
  readonly forwarded: number;
  /** Connections open through the proxy right now. */
  readonly open: number;
  /** Resets every open connection on both sides at once, as a crashed server or a broken network would. */
  cutAll(): void;
  /** While refusing, every new connection is reset at once (a server that is down); open ones are untouched. */
  setRefusing(refusing: boolean): void;
  /** A simulated restart: cuts every connection and refuses new ones for `ms`, then accepts again. */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
};

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (a database, a parent), for fault tests: it forwards bytes
 * unchanged, and on demand resets every connection or refuses new ones. Reusable by any test that needs to cut a
 * link without touching the server behind it.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let refusing = false;
  let forwarded = 0;

  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    forwarded += 1;
    const upstream = createConnection({ host: target.host, port: target.port });
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('TCP proxy did not bind');

  const cutAll = () => {
    for (const { client, upstream } of [...pairs]) {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    }
    pairs.clear();
  };

  return {
    port: address.port,
    get forwarded() {
      return forwarded;
    },
    get open() {
      return pairs.size;
    },
    cutAll,
    setRefusing(value) {
      refusing = value;
    },
    async outage(ms) {
      refusing = true;
      cutAll();
      await new Promise((resolve) => setTimeout(resolve, ms));
      refusing = false;
    },
    close() {
      refusing = true;
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
