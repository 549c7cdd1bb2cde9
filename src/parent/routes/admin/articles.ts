import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, Paging, UnixSeconds } from '../../schemas.js';

const ArticlesQuery = closed({
  mp_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191, description: 'Only this feed.' })),
  since: Type.Optional(UnixSeconds('Only articles published at or after this time.')),
  search: Type.Optional(
    Type.String({ maxLength: 191, description: 'Only titles containing this text (case-insensitive).' }),
  ),
  ...Paging,
});

/** GET /articles: what the children collected, newest first. */
export async function articleRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.get<{ Querystring: Static<typeof ArticlesQuery> }>(
    '/articles',
    {
      onRequest: requireUser('read'),
      schema: { tags: ['articles'], summary: 'Collected articles, newest first', querystring: ArticlesQuery },
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.articles.list(filter, limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );
}
