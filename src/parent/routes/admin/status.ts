import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { statusSummary } from '../../../store/status-summary.js';
import { ok } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed } from '../../schemas.js';

const StatusQuery = closed({
  failures_since_minutes: Type.Integer({
    minimum: 1,
    maximum: 10080,
    default: 60,
    description: 'Failures counted over this many minutes (default 60).',
  }),
  stale_after_hours: Type.Integer({
    minimum: 1,
    maximum: 8760,
    default: 24,
    description: 'An enabled feed is stale after this many hours without a successful update (default 24).',
  }),
  limit: Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 20,
    description: 'At most this many failures and stale feeds listed; totals count all.',
  }),
});

/** `GET /cascade/status`: nodes and their load, allocations by status, recent failures and stale feeds at once. */
export async function statusRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.get<{ Querystring: Static<typeof StatusQuery> }>(
    '/status',
    {
      onRequest: requireUser('read'),
      schema: {
        tags: ['dispatch'],
        security: [{ bearer: [] }],
        summary:
          'One-screen overview: child nodes (online, load/capacity), allocations by status, failures with reasons, stale feeds',
        querystring: StatusQuery,
      },
    },
    async (request) => {
      const nowMs = Date.now();
      const { failures_since_minutes: minutes, stale_after_hours: staleAfterHours, limit } = request.query;
      return ok(
        await statusSummary(store, {
          nowMs,
          failuresSinceMs: nowMs - minutes * 60_000,
          staleAfterHours,
          listLimit: limit,
        }),
      );
    },
  );
}
