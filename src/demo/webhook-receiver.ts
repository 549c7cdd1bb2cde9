import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A delivery the demo's receiver accepted: its id and the article titles the webhook body listed. */
export type ReceivedDelivery = { id: string; titles: string[] };

export type WebhookReceiver = { url: string; deliveries: ReceivedDelivery[]; close(): Promise<void> };

/**
 * The demo's stand-in for a user's webhook: it accepts POSTs whose body is the demo template's JSON
 * (`{"articles": [{"title": …}]}`), keeps one entry per X-Cascade-Delivery id (a retry of the same delivery is
 * not counted twice), and answers 200.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const id = String(req.headers['x-cascade-delivery'] ?? '');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { articles?: Array<{ title?: string }> };
        if (id && !deliveries.some((d) => d.id === id))
          deliveries.push({ id, titles: (body.articles ?? []).map((a) => String(a.title ?? '')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch {
        res.writeHead(400).end('expected JSON');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The demo task's template: JSON, so the webhook is posted as application/json; `json` escapes each title. */
export const DEMO_WEBHOOK_TEMPLATE =
  '{"task": {{ task.name | json }}, "articles": [{% for article in articles %}{"title": {{ article.title | json }}, "url": {{ article.url | json }}}{% unless forloop.last %},{% endunless %}{% endfor %}]}';
