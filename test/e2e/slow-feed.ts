import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the slow feed answers: hang until released, trickle its body chunk by chunk, or answer at once. */
export type Mode = { kind: 'hang' } | { kind: 'trickle'; chunks: number; everyMs: number } | { kind: 'answer' };

const RSS = (items: number) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title><link>http://127.0.0.1/</link><description>d</description>${Array.from(
    { length: items },
    (_, i) =>
      `<item><title>item ${i}</title><link>http://127.0.0.1/item/${i}</link><guid>slow-${i}</guid><description>${'x'.repeat(200)}</description></item>`,
  ).join('')}</channel></rss>`;

/** A feed server whose answer the test controls: hang until released, trickle chunk by chunk, or answer at once. */
export async function startSlowFeed() {
  let mode: Mode = { kind: 'answer' };
  const held = new Set<ServerResponse>();
  let requests = 0;
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS(3));
  const server: Server = createServer((req, res) => {
    requests += 1;
    if (mode.kind === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (mode.kind === 'answer') return answer(res);
    const body = RSS(mode.chunks);
    const size = Math.ceil(body.length / mode.chunks);
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(body.slice(sent, sent + size));
      sent += size;
      if (sent >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, mode.everyMs);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`,
    requests: () => requests,
    setMode(next: Mode) {
      mode = next;
    },
    /** Answers every held request (the wedged fetches end). */
    release() {
      for (const res of [...held]) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
