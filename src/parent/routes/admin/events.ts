import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ConsoleEvent } from '../../events/console-events.js';
import { ok } from '../../envelope.js';
import { requireUser, userOf } from '../../plugins/auth.js';
import { closed, NoQuery } from '../../schemas.js';

const StreamQuery = closed({
  ticket: Type.String({ minLength: 1, maxLength: 2000, description: 'From POST /events/ticket; valid 30 s, once.' }),
  last_event_id: Type.Optional(
    Type.String({
      maxLength: 100,
      description:
        'The Last-Event-ID header for clients that reconnect with a new URL (a new ticket) and so cannot rely on EventSource sending it.',
    }),
  ),
});

/** Comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** EventSource waits this long before reconnecting after the stream ends (a parent restart). */
const RECONNECT_MS = 2000;

function frame(event: ConsoleEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The console's live stream (server-sent events) and the ticket that opens it. */
export async function eventRoutes(app: FastifyInstance): Promise<void> {
  const { events, eventTickets } = app.services;
  const tags = ['events'];

  app.post<{ Querystring: Static<typeof NoQuery> }>(
    '/events/ticket',
    {
      onRequest: requireUser('read'),
      schema: { tags, summary: 'A 30-second single-use ticket for GET /events', querystring: NoQuery },
    },
    async (request) => ok(await eventTickets.issue(userOf(request))),
  );

  app.get<{ Querystring: Static<typeof StreamQuery> }>(
    '/events',
    {
      schema: {
        tags,
        summary: 'Server-sent events: allocation, node and dispatch; `resync` when missed events cannot be replayed',
        description: 'Send Last-Event-ID on reconnect to receive what was missed; a `resync` event means refetch.',
        querystring: StreamQuery,
      },
    },
    async (request, reply) => {
      await eventTickets.redeem(request.query.ticket);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: ${RECONNECT_MS}\n\n`);
      const header = request.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && header !== '' ? header : request.query.last_event_id;
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        const missed = events.eventsAfter(lastEventId);
        if (missed === undefined) raw.write('event: resync\ndata: {}\n\n');
        else for (const event of missed) raw.write(frame(event));
      }
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
      let unsubscribe = (): void => undefined;
      const end = (): void => {
        clearInterval(keepalive);
        unsubscribe();
        if (!raw.writableEnded) raw.end();
      };
      unsubscribe = events.subscribe((event) => raw.write(frame(event)), end);
      raw.on('close', end);
      raw.on('error', end);
    },
  );
}
