import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { withHidden } from '../../plugins/validation.js';
import { closed, HttpUrl, IdParams, Paging } from '../../schemas.js';
import type { RouteOptions } from '../api-routes.js';

const SyncConfig = closed({
  max_capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'Most feeds worked on at once.' })),
  feed_quota: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 191 }), Type.Integer({ minimum: 0, maximum: 1000000 }), {
      description: 'Feed id → weight ≥ 0; a node with weight > 0 is preferred for that feed.',
    }),
  ),
});

const CreateNode = closed({
  node_type: Type.Union([Type.Literal(0), Type.Literal(1)], { description: '0 parent, 1 child.' }),
  name: Type.String({ minLength: 1, maxLength: 191 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  api_url: Type.Optional(HttpUrl),
  sync_config: Type.Optional(SyncConfig),
});

const UpdateNode = closed({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  api_url: Type.Optional(Type.Union([HttpUrl, Type.Null()])),
  is_active: Type.Optional(Type.Boolean()),
  sync_config: Type.Optional(SyncConfig),
});

const ListQuery = closed({
  node_type: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
  status: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { description: '0 offline, 1 online, 2 disabled.' })),
  ...Paging,
});

/** Node management: create (credentials shown once), list, show, update, rotate credentials. */
export async function nodeRoutes(app: FastifyInstance, { hidden }: RouteOptions): Promise<void> {
  const { store } = app.services;
  const tags = ['nodes'];

  app.post<{ Body: Static<typeof CreateNode> }>(
    '/nodes',
    { schema: withHidden({ tags, summary: 'Create a node; a child gets api_key/api_secret once', body: CreateNode }, hidden), preHandler: requireUser('write') },
    async (request) => {
      const { node, credentials } = await store.nodes.create(request.body);
      const message = credentials ? 'Node created. Store api_secret now: it is not shown again.' : 'Node created.';
      return ok({ ...node, ...(credentials ?? {}) }, message);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/nodes',
    { schema: withHidden({ tags, summary: 'List nodes', querystring: ListQuery }, hidden), preHandler: requireUser('read') },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.nodes.list(filter, limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/nodes/:id',
    { schema: withHidden({ tags, summary: 'Show a node', params: IdParams }, hidden), preHandler: requireUser('read') },
    async (request) => ok(store.nodes.view(await store.nodes.getRow(request.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateNode> }>(
    '/nodes/:id',
    { schema: withHidden({ tags, summary: 'Update a node', params: IdParams, body: UpdateNode }, hidden), preHandler: requireUser('write') },
    async (request) => ok(await store.nodes.update(request.params.id, request.body), 'Node updated.'),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/nodes/:id/credentials',
    { schema: withHidden({ tags, summary: 'Rotate credentials; the old pair stops working at once', params: IdParams }, hidden), preHandler: requireUser('write') },
    async (request) => {
      const { node, credentials } = await store.nodes.rotateCredentials(request.params.id);
      return ok({ ...node, ...credentials }, 'Credentials rotated. Store api_secret now: it is not shown again.');
    },
  );
}
