import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, Paging } from '../../schemas.js';

const ListQuery = closed({
  node_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  operation: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Such as report_result.' })),
  ...Paging,
});

/** GET /cascade/sync-logs: newest first. */
export async function syncLogRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/sync-logs',
    {
      schema: { tags: ['sync-logs'], security: [{ bearer: [] }], summary: 'List sync logs', querystring: ListQuery },
      onRequest: requireUser('read'),
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.syncLogs.list(filter, limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );
}
