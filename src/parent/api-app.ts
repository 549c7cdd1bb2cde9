import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DispatchTrigger } from '../dispatch/dispatcher.js';
import { createParentServer } from './http-server.js';
import { answerClientError } from './plugins/client-errors.js';
import { installErrorEnvelope } from './plugins/error-envelope.js';
import { installValidation, type SchemaCompilation } from './plugins/validation.js';
import { apiRoutes } from './routes/api-routes.js';
import type { ParentServices } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: ParentServices;
    /** What a dispatch asked for through this app counts as: `api` on the listening parent, `cli` in the CLI's process. */
    manualDispatchTrigger: Extract<DispatchTrigger, 'api' | 'cli'>;
  }
}

export type AppOptions = { services: ParentServices; logger: FastifyBaseLogger };

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The client's x-request-id when it is at most 64 characters of [A-Za-z0-9._:-], else a random UUID. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * The Fastify instance every parent app starts from: services, request ids, validation and the error envelope.
 * `listening` adds the parent's own HTTP(S) server (TLS, timeouts); an app only ever injected into needs none.
 */
export function createBaseApp(
  { services, logger }: AppOptions,
  { listening, schemas }: { listening: boolean; schemas: SchemaCompilation },
): FastifyInstance {
  // Only the CLI's app is never listening: its callers ran `cascade dispatch`, not a request to the API.
  const { server: settings } = services.config;
  const app = Fastify({
    loggerInstance: logger,
    ...(listening
      ? {
          serverFactory: (handler: Parameters<typeof createParentServer>[1]) =>
            createParentServer(settings, handler, logger),
        }
      : {}),
    // Only the configured proxies' X-Forwarded-* headers are believed; by default the client is the TCP peer.
    trustProxy: settings.trust_proxy.length > 0 ? [...settings.trust_proxy] : false,
    bodyLimit: services.config.body_limit_bytes,
    clientErrorHandler: answerClientError,
    // A caller's x-request-id becomes the log id only when it is short and plain; otherwise we make our own.
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    forceCloseConnections: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('services', services);
  app.decorate('manualDispatchTrigger', listening ? 'api' : 'cli');
  // Open event streams would keep the server from closing; viewers reconnect by themselves.
  app.addHook('preClose', async () => services.events.endStreams());
  app.decorateRequest('principal', null);
  installValidation(app, schemas);
  installErrorEnvelope(app);
  return app;
}

/**
 * Only the documented API under /api/v1, for the CLI on the local store (cli/api-local.ts), which calls it with
 * `inject` and never listens: the same routes, hooks and auth as the parent's, without the API docs, the console,
 * metrics and the /wx aliases, which took most of the time to build.
 */
export async function buildApiApp(options: AppOptions): Promise<FastifyInstance> {
  const app = createBaseApp(options, { listening: false, schemas: 'on-first-use' });
  await app.register(apiRoutes, { prefix: '/api/v1' });
  return app;
}
