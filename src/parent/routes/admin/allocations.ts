import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ALL_STATUSES } from '../../../domain/allocation-states.js';
import { notFound } from '../../../errors/cascade-error.js';
import type { DispatchSummary } from '../../../dispatch/dispatcher.js';
import { listAllocations } from '../../../services/allocation-list.js';
import { allocationSummary } from '../../../services/allocation-summary.js';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, IdParams, NoQuery, Paging } from '../../schemas.js';

const DispatchQuery = closed({
  task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
  force: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'Dispatch every enabled feed, also those not due yet (docs/refresh.md).',
    }),
  ),
});
const ListQuery = closed({
  task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
  node_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  node_name: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 191,
      description:
        'Filter by node id or name; a node that does not exist (or is not the one node_id names) matches nothing: an empty list.',
    }),
  ),
  status: Type.Optional(Type.Union(ALL_STATUSES.map((s) => Type.Literal(s)))),
  schedule_run_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  feed_id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 191, description: 'Only allocations that include this feed.' }),
  ),
  stalled: Type.Optional(
    Type.Boolean({
      description:
        '`true`: only executing allocations flagged stalled (no progress for dispatch.stall_seconds); `false`: only the others.',
    }),
  ),
  ...Paging,
});
const PagingOnly = closed({ ...Paging });

/**
 * The dispatch answer's message. Nothing due is not an error (200): the message says so, when the next feed is
 * due and how to fetch anyway (docs/refresh.md).
 */
function dispatchMessage(summary: DispatchSummary): string {
  const done = `Dispatched ${summary.task_count} task(s): ${summary.allocations_created} allocation(s) created.`;
  if (summary.feeds_skipped_not_due === 0) return done;
  const skipped = `${summary.feeds_skipped_not_due} feed(s) not due yet (the next at ${summary.next_due_at ?? 'unknown'}); add force=true to fetch them now.`;
  return summary.allocations_created === 0 && summary.feeds_skipped_in_flight === 0
    ? `Nothing dispatched: ${skipped}`
    : `${done} ${skipped}`;
}

/** Dispatch and allocation management (docs/protocol.md §3.1). */
export async function allocationRoutes(app: FastifyInstance): Promise<void> {
  const { store, dispatcher, config } = app.services;
  const tags = ['dispatch'];

  app.post<{ Querystring: Static<typeof DispatchQuery> }>(
    '/dispatch-task',
    {
      onRequest: requireUser('write'),
      schema: { tags, summary: 'Dispatch one task (task_id) or every enabled task now', querystring: DispatchQuery },
    },
    async (request) => {
      const summary = await dispatcher.run({
        taskId: request.query.task_id,
        trigger: app.manualDispatchTrigger,
        force: request.query.force,
      });
      return ok(summary, dispatchMessage(summary));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/allocations',
    { onRequest: requireUser('read'), schema: { tags, summary: 'List allocations', querystring: ListQuery } },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await listAllocations(store, filter, limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/allocations/:id',
    {
      onRequest: requireUser('read'),
      schema: { tags, summary: 'One allocation with its attempts and placement explanation', params: IdParams },
    },
    async (request) => {
      const view = await store.allocations.views.view(request.params.id);
      if (!view) throw notFound('Allocation', request.params.id);
      return ok(view);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/allocations/:id/cancel',
    { onRequest: requireUser('write'), schema: { tags, summary: 'Cancel a live allocation', params: IdParams } },
    async (request) => {
      await store.allocations.cancel(request.params.id);
      return ok(await store.allocations.views.view(request.params.id), 'Allocation cancelled.');
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/allocations/:id/retry',
    {
      onRequest: requireUser('write'),
      schema: { tags, summary: 'Requeue a failed, timed-out or cancelled allocation', params: IdParams },
    },
    async (request) => {
      await store.allocations.retry(request.params.id);
      return ok(await store.allocations.views.view(request.params.id), 'Allocation requeued.');
    },
  );

  app.get<{ Querystring: Static<typeof NoQuery> }>(
    '/pending-allocations',
    {
      onRequest: requireUser('read'),
      schema: { tags, summary: 'Counts of pending, executing and today’s finished work', querystring: NoQuery },
    },
    async () => ok(await allocationSummary(store, Date.now(), config.dispatch.offline_after_seconds)),
  );

  app.get<{ Querystring: Static<typeof PagingOnly> }>(
    '/feed-status',
    {
      onRequest: requireUser('read'),
      schema: { tags, summary: 'Feed freshness, stalest first', querystring: PagingOnly },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const { list, total } = await store.feeds.statusPage(limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/nodes/:id',
    {
      onRequest: requireUser('write'),
      schema: {
        tags: ['nodes'],
        summary: 'Delete a node; its unfinished work goes back to the pool',
        params: IdParams,
      },
    },
    async (request) => {
      const node = await store.nodes.get(request.params.id);
      await store.allocations.deleteNode(request.params.id);
      return ok(null, `Node ${node.name} deleted; its unfinished allocations went back to the pool.`);
    },
  );
}
