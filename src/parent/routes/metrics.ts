import type { FastifyInstance } from 'fastify';
import { tokensEqual } from '../../auth/secrets.js';
import { isLoopback } from '../../domain/loopback.js';

/**
 * Prometheus text at /metrics. Without `metrics.token` only loopback clients may read it (a scraper on the same
 * machine); with it, any client that sends the token as a bearer token. Behind a reverse proxy on the same machine,
 * set `server.trust_proxy` so that the proxy's clients are not taken for loopback ones. Installed on the root app
 * (not as an encapsulated plugin) so its timing hook sees every route.
 */
export function installMetrics(app: FastifyInstance): void {
  const { metrics, config } = app.services;
  if (!config.metrics.enabled) return;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpSeconds.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const token = config.metrics.token;
    if (!token && !isLoopback(request.ip)) {
      return reply.status(403).send({
        code: 403,
        message: '/metrics answers loopback clients only; set metrics.token to scrape it from elsewhere.',
        data: null,
        error: 'FORBIDDEN',
      });
    }
    if (token) {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!tokensEqual(given, token)) {
        return reply.status(401).header('www-authenticate', 'Bearer').send({
          code: 401,
          message: 'Send Authorization: Bearer <metrics.token>.',
          data: null,
          error: 'UNAUTHENTICATED',
        });
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
