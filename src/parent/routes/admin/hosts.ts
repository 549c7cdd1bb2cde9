import type { FastifyInstance } from 'fastify';
import { ok } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { NoQuery } from '../../schemas.js';

/** Per-host politeness as the fleet sees it (docs/politeness.md): fetches in flight, limits, pauses. */
export async function hostsRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.get(
    '/hosts',
    {
      onRequest: requireUser('read'),
      schema: {
        tags: ['hosts'],
        summary: 'Per-host politeness: fetches in flight, limits, last hand-out, Retry-After pauses',
        querystring: NoQuery,
      },
    },
    async () => {
      const rules = store.hosts.rules;
      const list = await store.hosts.list();
      return ok({
        enabled: rules.enabled,
        defaults: { max_in_flight: rules.defaults.maxInFlight, min_interval_ms: rules.defaults.minIntervalMs },
        list,
        total: list.length,
      });
    },
  );
}
