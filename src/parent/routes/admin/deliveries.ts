import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ALL_DELIVERY_STATUSES } from '../../../domain/delivery-states.js';
import { toDeliveryView } from '../../../store/deliveries/deliveries-store.js';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, IdParams, Paging } from '../../schemas.js';

const ListQuery = closed({
  task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191, description: 'Only this message task.' })),
  status: Type.Optional(
    Type.Union(
      ALL_DELIVERY_STATUSES.map((s) => Type.Literal(s)),
      { description: 'Only this status.' },
    ),
  ),
  ...Paging,
});

/** Deliveries (notifications of new articles): list, redeliver, and a test send of a task. */
export async function deliveryRoutes(app: FastifyInstance): Promise<void> {
  const { store, deliverySender } = app.services;
  const tags = ['deliveries'];
  const security = [{ bearer: [] }];

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/deliveries',
    {
      schema: { tags, security, summary: 'List deliveries, newest first', querystring: ListQuery },
      onRequest: requireUser('read'),
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.deliveries.list(filter, limit, offset);
      return ok(page(list.map(toDeliveryView), total, limit, offset));
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/deliveries/:id/redeliver',
    {
      schema: { tags, security, summary: 'Send a delivered or failed delivery again', params: IdParams },
      onRequest: requireUser('write'),
    },
    async (request) =>
      ok(toDeliveryView(await store.deliveries.redeliver(request.params.id, Date.now())), 'Delivery queued again.'),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/message-tasks/:id/test-delivery',
    {
      schema: {
        tags,
        security,
        summary: 'Render and send a sample message of a task now; answers with what the receiver said',
        params: IdParams,
      },
      onRequest: requireUser('write'),
    },
    async (request) => ok(await deliverySender.sendTest(request.params.id)),
  );
}
