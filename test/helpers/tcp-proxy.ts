import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A fault the proxy applies until it is cleared. Faults act on bytes, not on a protocol, so one proxy serves HTTP
 * (child ↔ parent) and database wire protocols (parent ↔ PostgreSQL / MariaDB) alike.
 * - `delay`: every chunk, both ways, arrives `ms` later (order kept).
 * - `drop-responses`: what the client sends still reaches the server (so the server acts on it), but the first
 *   bytes of an answer are thrown away and both sides are reset: "the request committed, the answer was lost".
 * - `blackhole`: connections open, nothing passes either way; such connections are reset when the fault clears.
 * - `refuse`: a new connection is reset as soon as it is accepted (a server that is down); open ones are untouched.
 */
export type ProxyFault =
  { kind: 'delay'; ms: number } | { kind: 'drop-responses' } | { kind: 'blackhole' } | { kind: 'refuse' };

export type ProxyStats = { refused: number; droppedResponses: number; blackholedChunks: number; resets: number };

export type TcpProxy = {
  /** `127.0.0.1` port the proxy listens on (port 0 at start, so never a fixed one). */
  readonly port: number;
  /** Connections accepted and forwarded since the start (refused ones not counted). */
  readonly forwarded: number;
  /** Connections open through the proxy right now. */
  readonly open: number;
  readonly stats: Readonly<ProxyStats>;
  /** Where new connections go (a restarted server on another port); open ones keep their target. */
  setTarget(port: number, host?: string): void;
  setFault(fault: ProxyFault | null): void;
  /** Resets every open connection on both sides at once, as a crashed server or a broken network would. */
  cutAll(): void;
  /** While refusing, every new connection is reset at once (a server that is down); open ones are untouched. */
  setRefusing(refusing: boolean): void;
  /** A simulated restart: cuts every connection and refuses new ones for `ms`, then accepts again. */
  outage(ms: number): Promise<void>;
  /**
   * Lets requests through but throws away the next answer whose chunk `matches` (and resets that connection on
   * both sides), whatever the fault: "the server acted on this one request, its answer never arrived". Resolves
   * once it happened.
   */
  dropNextAnswer(matches: (chunk: Buffer) => boolean): Promise<void>;
  close(): Promise<void>;
};

type Pair = { client: Socket; upstream: Socket; tainted: boolean; sendAtMs: { up: number; down: number } };

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (a database, a parent), for fault tests: it forwards bytes
 * unchanged, and on demand cuts, refuses, delays, black-holes or answers-then-drops, without touching the server
 * behind it. Reusable by any test; the chaos suite (docs/reliability.md) drives every fault.
 */
export async function startTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
  let targetPort = target.port;
  let targetHost = target.host ?? '127.0.0.1';
  let fault: ProxyFault | null = null;
  let forwarded = 0;
  const pairs = new Set<Pair>();
  const stats: ProxyStats = { refused: 0, droppedResponses: 0, blackholedChunks: 0, resets: 0 };
  let dropNext: { matches: (chunk: Buffer) => boolean; done: () => void } | undefined;

  const reset = (pair: Pair): void => {
    pairs.delete(pair);
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (!pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  };

  const forward = (pair: Pair, direction: 'up' | 'down', chunk: Buffer): void => {
    if (!pairs.has(pair)) return;
    const armed = dropNext;
    if (direction === 'down' && armed?.matches(chunk)) {
      dropNext = undefined;
      stats.droppedResponses++;
      reset(pair);
      armed.done();
      return;
    }
    if (fault?.kind === 'blackhole') {
      pair.tainted = true;
      stats.blackholedChunks++;
      return;
    }
    if (fault?.kind === 'drop-responses' && direction === 'down') {
      stats.droppedResponses++;
      reset(pair);
      return;
    }
    const destination = direction === 'up' ? pair.upstream : pair.client;
    // A chunk never overtakes one delayed before it, even when the delay changes between them.
    const nowMs = Date.now();
    const sendAtMs = Math.max(nowMs + (fault?.kind === 'delay' ? fault.ms : 0), pair.sendAtMs[direction]);
    pair.sendAtMs[direction] = sendAtMs;
    if (sendAtMs <= nowMs) destination.write(chunk);
    else setTimeout(() => pairs.has(pair) && destination.write(chunk), sendAtMs - nowMs);
  };

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (fault?.kind === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    forwarded++;
    const upstream = createConnection({ port: targetPort, host: targetHost });
    const pair: Pair = { client, upstream, tainted: false, sendAtMs: { up: 0, down: 0 } };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => forward(pair, 'up', chunk));
    upstream.on('data', (chunk: Buffer) => forward(pair, 'down', chunk));
    // Either side failing or closing ends the pair: the other side sees it end, as through a real cut.
    const end = (): void => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const setFault = (next: ProxyFault | null): void => {
    const wasBlackhole = fault?.kind === 'blackhole';
    fault = next;
    // Bytes were thrown away on these connections: neither side can make sense of the rest of the stream.
    if (wasBlackhole && next?.kind !== 'blackhole') for (const pair of [...pairs]) if (pair.tainted) reset(pair);
  };
  const cutAll = (): void => {
    stats.resets += pairs.size;
    for (const pair of [...pairs]) reset(pair);
  };

  return {
    port: (server.address() as AddressInfo).port,
    get forwarded() {
      return forwarded;
    },
    get open() {
      return pairs.size;
    },
    stats,
    setTarget(port, host = '127.0.0.1') {
      targetPort = port;
      targetHost = host;
    },
    setFault,
    cutAll,
    setRefusing(refusing) {
      if (refusing) setFault({ kind: 'refuse' });
      else if (fault?.kind === 'refuse') setFault(null);
    },
    async outage(ms) {
      setFault({ kind: 'refuse' });
      cutAll();
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (fault?.kind === 'refuse') setFault(null);
    },
    dropNextAnswer(matches) {
      return new Promise<void>((resolve) => {
        dropNext = { matches, done: resolve };
      });
    },
    close() {
      setFault({ kind: 'refuse' });
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
