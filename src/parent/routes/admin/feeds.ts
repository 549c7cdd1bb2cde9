import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, IdParams, OptionalHttpUrl, Paging, UnixSeconds } from '../../schemas.js';

const FeedStatus = Type.Union([Type.Literal(0), Type.Literal(1)], { description: '1 enabled, 0 disabled.' });
const UnixSecondsOrNull = Type.Union([UnixSeconds(''), Type.Null()], { description: 'Unix seconds, or null.' });

const feedFields = {
  mp_name: Type.Optional(Type.String({ maxLength: 500 })),
  mp_cover: Type.Optional(Type.String({ maxLength: 2000 })),
  mp_intro: Type.Optional(Type.String({ maxLength: 65535 })),
  faker_id: Type.Optional(Type.String({ maxLength: 500 })),
  url: Type.Optional(OptionalHttpUrl(2000, 'The source the child fetches (RSS, Atom or JSON Feed).')),
  status: Type.Optional(FeedStatus),
  sync_time: Type.Optional(UnixSecondsOrNull),
  update_time: Type.Optional(UnixSecondsOrNull),
};

const CreateFeed = closed({
  id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 191, description: 'Feed id such as MP_WXS_123; generated when absent.' }),
  ),
  ...feedFields,
});
const UpdateFeed = closed(feedFields);

const ListQuery = closed({
  status: Type.Optional(FeedStatus),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'Part of mp_name, any case.' })),
  ...Paging,
});

/** Feed CRUD at /feeds (docs/protocol.md §3.1). */
export async function feedRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  const tags = ['feeds'];
  const security = [{ bearer: [] }];

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/feeds',
    { schema: { tags, security, summary: 'List feeds', querystring: ListQuery }, onRequest: requireUser('read') },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.feeds.list(filter, limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.post<{ Body: Static<typeof CreateFeed> }>(
    '/feeds',
    {
      schema: { tags, security, summary: 'Create a feed (with the given id or a generated one)', body: CreateFeed },
      onRequest: requireUser('write'),
    },
    async (request) => ok(await store.feeds.create(request.body), 'Feed created.'),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/feeds/:id',
    { schema: { tags, security, summary: 'Show a feed', params: IdParams }, onRequest: requireUser('read') },
    async (request) => ok(store.feeds.view(await store.feeds.get(request.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateFeed> }>(
    '/feeds/:id',
    {
      schema: { tags, security, summary: 'Update a feed', params: IdParams, body: UpdateFeed },
      onRequest: requireUser('write'),
    },
    async (request) => ok(await store.feeds.update(request.params.id, request.body), 'Feed updated.'),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/feeds/:id',
    { schema: { tags, security, summary: 'Delete a feed', params: IdParams }, onRequest: requireUser('write') },
    async (request) => {
      await store.feeds.remove(request.params.id);
      return ok(null, 'Feed deleted.');
    },
  );
}
