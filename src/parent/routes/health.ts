import type { FastifyInstance } from 'fastify';
import { quietRouteLogLevel } from '../quiet-log-level.js';
import { ReadinessState } from '../readiness.js';

/** Liveness and readiness, outside the envelope's /api tree and without auth. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { config, readiness, store } = app.services;
  // Probes come every few seconds from supervisors and load balancers: logged at debug only.
  const logLevel = quietRouteLogLevel(config);
  app.get('/healthz', { schema: { hide: true }, logLevel }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, logLevel }, async (_request, reply) => {
    if (readiness.state !== ReadinessState.ready) return reply.status(503).send({ status: readiness.state });
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (error) {
      return reply.status(503).send({ status: 'unavailable', error: (error as Error).message });
    }
  });
}
