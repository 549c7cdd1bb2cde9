import type { FastifyInstance } from 'fastify';
import { tokensEqual } from '../../auth/secrets.js';

/**
 * Prometheus text at /metrics; open unless `metrics.token` is set, then it needs that bearer token. Installed on
 * the root app (not as an encapsulated plugin) so its timing hook sees every route.
 */
export function installMetrics(app: FastifyInstance): void {
  const { metrics, config } = app.services;
  if (!config.metrics.enabled) return;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const token = config.metrics.token;
    if (token) {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!tokensEqual(given, token)) {
        return reply.status(401).header('www-authenticate', 'Bearer').send({ code: 401, message: 'Send Authorization: Bearer <metrics.token>.', data: null, error: 'UNAUTHENTICATED' });
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
