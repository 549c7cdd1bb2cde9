import type { FastifyInstance, FastifyReply } from 'fastify';
import { RequeueReason } from '../../../domain/allocation-states.js';
import { CascadeError } from '../../../errors/cascade-error.js';
import { AllocationReports } from '../../../services/allocation-reports.js';
import { renewLeases } from '../../../services/heartbeat-leases.js';
import { toAllocationView } from '../../../store/allocations/views.js';
import type { RetryAfterReport } from '../../../store/hosts.js';
import type { NodeRecord } from '../../../store/nodes.js';
import type { AllocationRecord } from '../../../store/allocations/views.js';
import { ok } from '../../envelope.js';
import { answersInOriginalShapes } from '../../plugins/legacy-alias.js';
import { nodeOf, requireNode, signedChildRequests } from '../../plugins/auth.js';
import { quietRouteLogLevel } from '../../quiet-log-level.js';
import {
  ClaimQuery,
  HeartbeatBody,
  PendingTasksQuery,
  ReportCompletionBody,
  TaskStatusBody,
  UPLOAD_BODY_LIMIT_BYTES,
  UploadArticlesBody,
} from '../../../protocol/child-requests.js';
import type { HeartbeatAnswer } from '../../../protocol/parent-messages.js';
import { acceptEmptyJsonBodies, normaliseChildBody, normaliseCompletionBody, normalising } from './child-input.js';

/** The node name for an allocation view: the caller's own name when it holds the row (the only case here). */
function holderName(allocation: AllocationRecord, node: NodeRecord): string | null {
  return allocation.nodeId === node.id ? node.name : null;
}

/** An abort signal that fires when the client goes away before the answer, so a long-poll stops waiting for nobody. */
function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The child API of docs/protocol.md §3.2 that moves work: heartbeat, claim, status, articles, completion. */
export async function childWorkRoutes(app: FastifyInstance): Promise<void> {
  const { store, claimer, config, metrics } = app.services;
  const tags = ['child'];
  const guard = {
    onRequest: requireNode,
    logLevel: quietRouteLogLevel(config),
    preValidation: normalising(normaliseChildBody),
  };
  const reports = new AllocationReports(store);
  acceptEmptyJsonBodies(app);
  signedChildRequests(app);

  /** A host that answered 429/503 with Retry-After for one of the allocation's feeds is paused for the fleet. */
  const pauseHosts = async (allocation: AllocationRecord, reports: RetryAfterReport[]): Promise<void> => {
    const feedIds = new Set(allocation.feedIds);
    const own = reports.filter((report) => feedIds.has(report.feedId));
    if (own.length === 0) return;
    const paused = await store.hosts.pause(own, `Retry-After reported for allocation ${allocation.id}`);
    for (const [host, until] of paused) {
      metrics.hostPauses.inc();
      app.log.warn(
        { host, paused_until: new Date(until).toISOString(), allocation_id: allocation.id },
        'host asked to be left alone: paused for the fleet',
      );
    }
  };

  // A report about work the node no longer holds is refused (409); count it and say so, with node and allocation.
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof CascadeError) || (error.code !== 'LEASE_LOST' && error.code !== 'INVALID_TRANSITION'))
      return;
    const route = request.routeOptions.url ?? request.url;
    metrics.refusedReports.inc({ route, code: error.code });
    const node = request.principal?.kind === 'node' ? request.principal.node : undefined;
    const allocationId = (request.body as { allocation_id?: unknown } | null)?.allocation_id;
    request.log.warn(
      {
        node_id: node?.id,
        node: node?.name,
        allocation_id: allocationId,
        route,
        code: error.code,
        reason: error.message,
      },
      'refused a late report from a child',
    );
  });

  app.post<{ Body: HeartbeatBody }>(
    '/heartbeat',
    { ...guard, schema: { tags, summary: 'Mark the node online and extend its leases', body: HeartbeatBody } },
    async (request) => {
      const node = nodeOf(request);
      const now = Date.now();
      const { outbox_depth: outboxDepth, progress, ...body } = request.body ?? {};
      const intervalMs = body.heartbeat_interval_s ? body.heartbeat_interval_s * 1000 : undefined;
      await store.nodes.recordHeartbeat(
        node.id,
        { ...body, callback_url: body.callback_url ?? undefined, heartbeat_interval_ms: intervalMs },
        now,
      );
      if (outboxDepth !== undefined) metrics.outboxDepths.set(node.id, { node: node.name, depth: outboxDepth });
      const { extended, requeued, timedOut } = await renewLeases(
        store,
        node.id,
        body.held_allocation_ids ?? undefined,
        config.dispatch.held_grace_seconds,
        now,
      );
      if (progress && progress.length > 0) {
        const reported = progress.map((p) => ({
          allocationId: p.allocation_id,
          feedsDone: p.feeds_done,
          bytesRead: p.bytes_read,
        }));
        await store.allocations.recordProgress(node.id, reported, now);
      }
      if (requeued > 0) metrics.requeues.inc({ reason: RequeueReason.notHeld }, requeued);
      if (timedOut > 0) metrics.timeouts.inc(timedOut);
      if (requeued + timedOut > 0)
        request.log.warn(
          { node_id: node.id, requeued, timed_out: timedOut },
          'heartbeat left out allocations the node held; requeued them',
        );
      return ok({
        status: 'alive',
        node_id: node.id,
        node_name: node.name,
        server_time: new Date(now).toISOString(),
        offline_after_s: config.dispatch.offline_after_seconds,
        leases_extended: extended,
        released_unlisted: requeued + timedOut,
        max_capacity: node.maxCapacity,
      } satisfies HeartbeatAnswer);
    },
  );

  app.post<{ Querystring: ClaimQuery }>(
    '/claim-task',
    { ...guard, schema: { tags, summary: 'Claim work (long-poll with wait)', querystring: ClaimQuery } },
    async (request, reply) => {
      const { wait, max } = request.query;
      const packages = await claimer.claim(nodeOf(request).id, max, wait * 1000, disconnectSignal(reply));
      if (max === 1) return ok(packages[0] ?? null, packages.length ? 'Claimed 1 allocation.' : 'No work.');
      return ok({ list: packages }, `Claimed ${packages.length} allocation(s).`);
    },
  );

  app.get<{ Querystring: PendingTasksQuery }>(
    '/pending-tasks',
    { ...guard, schema: { tags, summary: 'Legacy alias of claim-task (max = limit)', querystring: PendingTasksQuery } },
    async (request, reply) => {
      // The original child reads `data` as one package: claiming more than one would take work it never sees.
      const max = answersInOriginalShapes(request) ? 1 : request.query.limit;
      const packages = await claimer.claim(
        nodeOf(request).id,
        max,
        (request.query.wait ?? 0) * 1000,
        disconnectSignal(reply),
      );
      if (answersInOriginalShapes(request))
        return ok(packages[0] ?? null, packages.length ? 'Claimed 1 allocation.' : 'No work.');
      return ok({ list: packages, total: packages.length }, `Claimed ${packages.length} allocation(s).`);
    },
  );

  app.put<{ Body: TaskStatusBody }>(
    '/task-status',
    {
      ...guard,
      schema: {
        tags,
        summary: 'Report executing, failed, or completed without per-feed results',
        body: TaskStatusBody,
      },
    },
    async (request) => {
      const node = nodeOf(request);
      const {
        allocation_id: id,
        status,
        error_message: error,
        attempt,
        retryable,
        retry_after: retryAfter,
      } = request.body;
      const actor = { nodeId: node.id, attempt };
      if (status === 'completed') {
        const { allocation, moved } = await reports.completeWithoutResults(id, actor);
        if (moved) metrics.completions.inc();
        return ok(toAllocationView(allocation, holderName(allocation, node)), 'Allocation completed.');
      }
      if (status === 'executing') {
        // start() sets the lease to now + lease_seconds itself and returns the allocation as stored: no second UPDATE
        // to extend the lease, no re-read for the answer (both showed up in the claim-cycle benchmark).
        const allocation = await store.allocations.start(id, actor);
        return ok(toAllocationView(allocation, holderName(allocation, node)), 'Allocation is executing.');
      }
      const { allocation, moved } = await reports.fail(
        id,
        actor,
        error ?? 'failed without a reason',
        retryable !== false,
      );
      if (!moved) return ok(toAllocationView(allocation, holderName(allocation, node)), 'Failure already recorded.');
      await pauseHosts(
        allocation,
        (retryAfter ?? []).map((r) => ({ feedId: r.mp_id, seconds: r.retry_after_seconds })),
      );
      metrics.failures.inc();
      if (allocation.status === 'pending') metrics.requeues.inc({ reason: 'failed' });
      return ok(
        toAllocationView(allocation, holderName(allocation, node)),
        allocation.status === 'pending'
          ? 'Failure recorded; the allocation will be retried.'
          : 'Failure recorded; no attempts left.',
      );
    },
  );

  app.post<{ Body: UploadArticlesBody }>(
    '/upload-articles',
    {
      ...guard,
      bodyLimit: UPLOAD_BODY_LIMIT_BYTES,
      schema: { tags, summary: 'Upload articles (≤ 1,000 and ≤ 2 MiB per request)', body: UploadArticlesBody },
    },
    async (request) => {
      const node = nodeOf(request);
      const result = await store.articles.upload(
        request.body.allocation_id,
        { nodeId: node.id, attempt: request.body.attempt },
        request.body.articles,
      );
      await store.allocations.extendLease(request.body.allocation_id, node.id);
      return ok(result, `Stored ${result.received} article(s), ${result.new_count} new.`);
    },
  );

  app.post<{ Body: ReportCompletionBody }>(
    '/report-completion',
    {
      ...guard,
      preValidation: normalising(normaliseCompletionBody),
      schema: { tags, summary: 'Report per-feed results and complete the allocation', body: ReportCompletionBody },
    },
    async (request) => {
      const node = nodeOf(request);
      const { allocation_id: id, results, article_count: articleCount, attempt } = request.body;
      const { allocation, moved } = await store.allocations.complete(
        id,
        { nodeId: node.id, attempt },
        results,
        articleCount ?? 0,
      );
      if (moved) {
        metrics.completions.inc();
        await pauseHosts(
          allocation,
          results.flatMap((r) =>
            r.retry_after_seconds === undefined ? [] : [{ feedId: r.mp_id, seconds: r.retry_after_seconds }],
          ),
        );
      }
      return ok(toAllocationView(allocation, holderName(allocation, node)), 'Allocation completed.');
    },
  );
}
