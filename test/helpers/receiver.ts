import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export type Received = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  deliveryId: string | undefined;
};

/** How the receiver answers request number `index` (0-based): a status and body, or `hang` to never answer. */
export type Answer = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

export type Receiver = {
  url: string;
  received: Received[];
  /** Distinct delivery ids the receiver accepted (2xx), as a receiver deduplicating by X-Cascade-Delivery would. */
  accepted: Set<string>;
  close(): Promise<void>;
};

/**
 * A real HTTP server on 127.0.0.1:0 that stands in for a chat bot or a webhook: it records every request and
 * answers as `answer` says. Hanging requests are cut when the receiver closes.
 */
export async function startReceiver(
  answer: (request: Received, index: number) => Answer = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' }),
): Promise<Receiver> {
  const received: Received[] = [];
  const accepted = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const deliveryHeader = req.headers['x-cascade-delivery'];
      const record: Received = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        deliveryId: typeof deliveryHeader === 'string' ? deliveryHeader : undefined,
      };
      const index = received.push(record) - 1;
      const reply = answer(record, index);
      if (reply === 'hang') return;
      const send = () => {
        if (reply.status >= 200 && reply.status < 300 && record.deliveryId) accepted.add(record.deliveryId);
        res
          .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
          .end(reply.body ?? '{"errcode":0,"errmsg":"ok"}');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
