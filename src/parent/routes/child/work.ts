import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CascadeError } from '../../../errors/cascade-error.js';
import type { NodeActor } from '../../../store/allocations/shared.js';
import { toAllocationView } from '../../../store/allocations/views.js';
import type { AllocationTable, NodeTable } from '../../../store/tables.js';
import { ok } from '../../envelope.js';
import { answersInOriginalShapes } from '../../plugins/legacy-alias.js';
import { nodeOf, requireNode, signedChildRequests } from '../../plugins/auth.js';
import { quietRouteLogLevel } from '../../quiet-log-level.js';
import { ArticleCount, closed, HttpUrl, UnixSeconds } from '../../schemas.js';
import { ChildTimestamp } from '../../timestamps.js';
import { acceptEmptyJsonBodies, normaliseChildBody, normaliseCompletionBody, normalising } from './child-input.js';

const Heartbeat = Type.Union([
  closed({
    callback_url: Type.Optional(Type.Union([HttpUrl, Type.Null()])),
    current_tasks: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    version: Type.Optional(Type.String({ maxLength: 100 })),
    hostname: Type.Optional(Type.String({ maxLength: 255 })),
    outbox_depth: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000000, description: 'Calls waiting in the child\'s outbox (Cascade child only).' })),
    // Cascade's child: what it holds (in flight or with reports still queued) and how often it beats. The original
    // child sends neither; then every lease it holds is renewed and its liveness follows offline_after_seconds.
    held_allocation_ids: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10000 }), Type.Null()])),
    heartbeat_interval_s: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3600 }), Type.Null()])),
    timestamp: ChildTimestamp,
  }),
  Type.Null(),
]);

const ClaimQuery = closed({
  wait: Type.Number({ minimum: 0, maximum: 60, default: 0, description: 'Seconds to wait for work (long-poll).' }),
  max: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Most packages to return.' }),
});
const PendingQuery = closed({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 1 }), wait: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })) });

const AllocationId = Type.String({ minLength: 1, maxLength: 64 });
/** The package's `attempt`: optional (the original child does not send it); a report about an older attempt gets 409. */
const Attempt = Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000, description: 'The attempt this report is about (from the task package).' }));
const TaskStatus = closed({
  allocation_id: AllocationId,
  attempt: Attempt,
  status: Type.Union([Type.Literal('executing'), Type.Literal('failed'), Type.Literal('completed')], {
    description: '`completed` is a completion without per-feed results (the original child documents it).',
  }),
  error_message: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  retryable: Type.Optional(
    Type.Boolean({ description: 'With `failed`: `false` when retrying cannot help (404, 410, not a feed, a refused address); the allocation fails at once instead of being retried. Default `true`.' }),
  ),
  timestamp: ChildTimestamp,
});

const Article = closed({
  id: Type.String({ minLength: 1, maxLength: 191 }),
  mp_id: Type.String({ minLength: 1, maxLength: 191 }),
  title: Type.Optional(Type.String({ maxLength: 1000 })),
  url: Type.Optional(Type.String({ maxLength: 2000 })),
  pic_url: Type.Optional(Type.String({ maxLength: 2000 })),
  description: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
  content_markdown: Type.Optional(Type.String()),
  publish_time: Type.Optional(UnixSeconds('When the article was published.')),
  ext: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Extra fields of the source (the original child’s `ext`), stored as sent.' })),
});
const UploadArticles = closed({ allocation_id: AllocationId, attempt: Attempt, articles: Type.Array(Article, { maxItems: 1000 }), timestamp: ChildTimestamp });

const FeedResult = closed({
  mp_id: Type.String({ minLength: 1, maxLength: 191 }),
  status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
  article_count: ArticleCount,
  new_article_count: Type.Optional(ArticleCount),
  error: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  // The validators the child got for this feed; stored with the accepted completion and sent in the next package.
  etag: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  last_modified: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  permanent: Type.Optional(Type.Boolean({ description: 'A failed feed whose failure retrying cannot fix (Cascade child only).' })),
  skipped: Type.Optional(
    Type.Array(closed({ id: Type.String({ maxLength: 191 }), reason: Type.String({ maxLength: 500 }) }), {
      maxItems: 100,
      description: 'Entries of the feed left out for being unusable (a NUL character, over the upload size); the rest was uploaded (Cascade child only).',
    }),
  ),
});
const ReportCompletion = closed({
  allocation_id: AllocationId,
  attempt: Attempt,
  task_id: Type.String({ minLength: 1, maxLength: 191 }),
  results: Type.Array(FeedResult, { maxItems: 10000 }),
  article_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000 })),
  timestamp: ChildTimestamp,
});

/** Upload accepts 2 MiB whatever the global body limit. */
const UPLOAD_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** The node name for an allocation view: the caller's own name when it holds the row (the only case here). */
function holderName(row: AllocationTable, node: NodeTable): string | null {
  return row.node_id === node.id ? node.name : null;
}

/** An abort signal that fires when the client goes away before the answer, so a long-poll stops waiting for nobody. */
function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The child API of PROTOCOL §3.2 that moves work: heartbeat, claim, status, articles, completion. */
export async function childWorkRoutes(app: FastifyInstance): Promise<void> {
  const { store, claimer, config, metrics } = app.services;
  const tags = ['child'];
  const guard = { onRequest: requireNode, logLevel: quietRouteLogLevel(config), preValidation: normalising(normaliseChildBody) };
  acceptEmptyJsonBodies(app);
  signedChildRequests(app);

  /** `task-status` `completed` (the original child's documented finish): from `claimed` it starts the work first. */
  async function completeWithoutResults(id: string, actor: NodeActor): Promise<AllocationTable> {
    const complete = async () => {
      const { row, moved } = await store.allocations.complete(id, actor, [], 0);
      if (moved) metrics.completions.inc();
      return row;
    };
    try {
      return await complete();
    } catch (error) {
      if (!(error instanceof CascadeError && error.code === 'INVALID_TRANSITION')) throw error;
      await store.allocations.start(id, actor);
      return complete();
    }
  }

  // A report about work the node no longer holds is refused (409); count it and say so, with node and allocation.
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof CascadeError) || (error.code !== 'LEASE_LOST' && error.code !== 'INVALID_TRANSITION')) return;
    const route = request.routeOptions.url ?? request.url;
    metrics.refusedReports.inc({ route, code: error.code });
    const node = request.principal?.kind === 'node' ? request.principal.node : undefined;
    const allocationId = (request.body as { allocation_id?: unknown } | null)?.allocation_id;
    request.log.warn({ node_id: node?.id, node: node?.name, allocation_id: allocationId, route, code: error.code, reason: error.message }, 'refused a late report from a child');
  });

  app.post<{ Body: Static<typeof Heartbeat> }>(
    '/heartbeat',
    { ...guard, schema: { tags, summary: 'Mark the node online and extend its leases', body: Heartbeat } },
    async (request) => {
      const node = nodeOf(request);
      const now = Date.now();
      const { outbox_depth: outboxDepth, ...body } = request.body ?? {};
      const intervalMs = body.heartbeat_interval_s ? body.heartbeat_interval_s * 1000 : undefined;
      await store.nodes.recordHeartbeat(node.id, { ...body, callback_url: body.callback_url ?? undefined, heartbeat_interval_ms: intervalMs }, now);
      if (outboxDepth !== undefined) metrics.outboxDepths.set(node.id, { node: node.name, depth: outboxDepth });
      const held = body.held_allocation_ids ?? undefined;
      // Without a list (the original child) every lease the node holds is renewed; with one, only the listed ones.
      const { extended, requeued, timedOut } = held
        ? await store.allocations.reconcileHeld(node.id, held, config.dispatch.held_grace_seconds, now)
        : { extended: await store.allocations.extendLeases(node.id, now), requeued: 0, timedOut: 0 };
      if (requeued > 0) metrics.requeues.inc({ reason: 'not_held' }, requeued);
      if (timedOut > 0) metrics.timeouts.inc(timedOut);
      if (requeued + timedOut > 0) request.log.warn({ node_id: node.id, requeued, timed_out: timedOut }, 'heartbeat left out allocations the node held; requeued them');
      return ok({
        status: 'alive',
        node_id: node.id,
        node_name: node.name,
        server_time: new Date(now).toISOString(),
        offline_after_s: config.dispatch.offline_after_seconds,
        leases_extended: extended,
        released_unlisted: requeued + timedOut,
        max_capacity: node.max_capacity,
      });
    },
  );

  app.post<{ Querystring: Static<typeof ClaimQuery> }>(
    '/claim-task',
    { ...guard, schema: { tags, summary: 'Claim work (long-poll with wait)', querystring: ClaimQuery } },
    async (request, reply) => {
      const { wait, max } = request.query;
      const packages = await claimer.claim(nodeOf(request).id, max, wait * 1000, disconnectSignal(reply));
      if (max === 1) return ok(packages[0] ?? null, packages.length ? 'Claimed 1 allocation.' : 'No work.');
      return ok({ list: packages }, `Claimed ${packages.length} allocation(s).`);
    },
  );

  app.get<{ Querystring: Static<typeof PendingQuery> }>(
    '/pending-tasks',
    { ...guard, schema: { tags, summary: 'Legacy alias of claim-task (max = limit)', querystring: PendingQuery } },
    async (request, reply) => {
      // The original child reads `data` as one package: claiming more than one would take work it never sees.
      const max = answersInOriginalShapes(request) ? 1 : request.query.limit;
      const packages = await claimer.claim(nodeOf(request).id, max, (request.query.wait ?? 0) * 1000, disconnectSignal(reply));
      if (answersInOriginalShapes(request)) return ok(packages[0] ?? null, packages.length ? 'Claimed 1 allocation.' : 'No work.');
      return ok({ list: packages, total: packages.length }, `Claimed ${packages.length} allocation(s).`);
    },
  );

  app.put<{ Body: Static<typeof TaskStatus> }>(
    '/task-status',
    { ...guard, schema: { tags, summary: 'Report executing, failed, or completed without per-feed results', body: TaskStatus } },
    async (request) => {
      const node = nodeOf(request);
      const { allocation_id: id, status, error_message: error, attempt, retryable } = request.body;
      const actor = { nodeId: node.id, attempt };
      if (status === 'completed') {
        const row = await completeWithoutResults(id, actor);
        return ok(toAllocationView(row, holderName(row, node)), 'Allocation completed.');
      }
      if (status === 'executing') {
        // start() sets the lease to now + lease_seconds itself and returns the row as stored: no second UPDATE
        // to extend the lease, no re-read for the answer (both showed up in the claim-cycle benchmark).
        const row = await store.allocations.start(id, actor);
        return ok(toAllocationView(row, holderName(row, node)), 'Allocation is executing.');
      }
      let row: AllocationTable;
      try {
        row = await store.allocations.fail(id, actor, error ?? 'failed without a reason', Date.now(), retryable !== false);
      } catch (refusal) {
        // The same failure reported again is answered as recorded (2xx), so a child retrying the call is not told
        // it lost work it already gave back; nothing changes.
        const repeated = refusal instanceof CascadeError && (refusal.code === 'LEASE_LOST' || refusal.code === 'INVALID_TRANSITION') && (await store.allocations.views.lastAttemptFailedOn(id, node.id, attempt));
        const current = repeated ? await store.allocations.views.getRow(id) : undefined;
        if (!current) throw refusal;
        return ok(toAllocationView(current, holderName(current, node)), 'Failure already recorded.');
      }
      metrics.failures.inc();
      if (row.status === 'pending') metrics.requeues.inc({ reason: 'failed' });
      return ok(toAllocationView(row, holderName(row, node)), row.status === 'pending' ? 'Failure recorded; the allocation will be retried.' : 'Failure recorded; no attempts left.');
    },
  );

  app.post<{ Body: Static<typeof UploadArticles> }>(
    '/upload-articles',
    { ...guard, bodyLimit: UPLOAD_BODY_LIMIT_BYTES, schema: { tags, summary: 'Upload articles (≤ 1,000 and ≤ 2 MiB per request)', body: UploadArticles } },
    async (request) => {
      const node = nodeOf(request);
      const result = await store.articles.upload(request.body.allocation_id, { nodeId: node.id, attempt: request.body.attempt }, request.body.articles);
      await store.allocations.extendLease(request.body.allocation_id, node.id);
      return ok(result, `Stored ${result.received} article(s), ${result.new_count} new.`);
    },
  );

  app.post<{ Body: Static<typeof ReportCompletion> }>(
    '/report-completion',
    { ...guard, preValidation: normalising(normaliseCompletionBody), schema: { tags, summary: 'Report per-feed results and complete the allocation', body: ReportCompletion } },
    async (request) => {
      const node = nodeOf(request);
      const { allocation_id: id, results, article_count: articleCount, attempt } = request.body;
      const { row, moved } = await store.allocations.complete(id, { nodeId: node.id, attempt }, results, articleCount ?? 0);
      if (moved) metrics.completions.inc();
      return ok(toAllocationView(row, holderName(row, node)), 'Allocation completed.');
    },
  );
}
