import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createBaseApp, type AppOptions } from './api-app.js';
import { installConsole } from './plugins/console-static.js';
import { apiRoutes } from './routes/api-routes.js';
import { feedsOutRoutes } from './routes/feeds-out.js';
import { healthRoutes } from './routes/health.js';
import { installMetrics } from './routes/metrics.js';

/** Builds the parent's HTTP app without listening (server.ts listens), so tests can start it on port 0. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = createBaseApp(options, { listening: true, schemas: 'eager' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Cascade parent API',
        version: '1',
        description: 'Management (Bearer JWT) and child (AK-SK) endpoints. Every answer is {code, message, data}.',
      },
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
