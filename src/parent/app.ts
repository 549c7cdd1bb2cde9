import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createParentServer } from './http-server.js';
import { answerClientError } from './plugins/client-errors.js';
import { installConsole } from './plugins/console-static.js';
import { installErrorEnvelope } from './plugins/error-envelope.js';
import { installValidation } from './plugins/validation.js';
import { apiRoutes } from './routes/api-routes.js';
import { feedsOutRoutes } from './routes/feeds-out.js';
import { healthRoutes } from './routes/health.js';
import { installMetrics } from './routes/metrics.js';
import type { ParentServices } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: ParentServices;
  }
}

export type AppOptions = { services: ParentServices; logger: FastifyBaseLogger };

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The client's x-request-id when it is at most 64 characters of [A-Za-z0-9._:-], else a random UUID. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Builds the parent's HTTP app without listening (server.ts listens), so tests can start it on port 0. */
export async function buildApp({ services, logger }: AppOptions): Promise<FastifyInstance> {
  const { server: settings } = services.config;
  const app = Fastify({
    loggerInstance: logger,
    serverFactory: (handler) => createParentServer(settings, handler, logger),
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
  // Open event streams would keep the server from closing; viewers reconnect by themselves.
  app.addHook('preClose', async () => services.events.endStreams());
  app.decorateRequest('principal', null);
  installValidation(app);
  installErrorEnvelope(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Cascade parent API', version: '1', description: 'Management (Bearer JWT) and child (AK-SK) endpoints. Every answer is {code, message, data}.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          aksk: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AK-SK <api_key>:<api_secret>' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes);
  installMetrics(app);
  await app.register(feedsOutRoutes);
  await app.register(apiRoutes, { prefix: '/api/v1' });
  await app.register(apiRoutes, { prefix: '/api/v1/wx', legacyAlias: true });
  await installConsole(app);
  return app;
}
