import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';

/** Liveness and readiness, outside the envelope's /api tree and without auth. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(app.services.store.db);
      return { status: 'ready' };
    } catch (error) {
      return reply.status(503).send({ status: 'unavailable', error: (error as Error).message });
    }
  });
}
