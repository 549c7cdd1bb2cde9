import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../../../errors/cascade-error.js';
import { toMessageTaskPublicView } from '../../../store/message-tasks.js';
import { SyncLogStatus } from '../../../store/sync-logs.js';
import { ok, page } from '../../envelope.js';
import { answersInOriginalShapes } from '../../plugins/legacy-alias.js';
import { nodeOf, requireNode, signedChildRequests } from '../../plugins/auth.js';
import { closed, Paging } from '../../schemas.js';
import { ReportResultBody } from '../../../protocol/child-requests.js';
import { parseIsoTimestamp } from '../../../protocol/wire-primitives.js';
import { acceptEmptyJsonBodies, normaliseChildBody, normaliseFeedResult, normalising } from './child-input.js';
import { EnabledStatus } from '../../../domain/enabled-status.js';

const ListQuery = closed({ ...Paging });

const isFailure = (result: unknown) => normaliseFeedResult(result)?.status === 'failed';

/**
 * Read-only sync for children and the legacy report-result. Under /api/v1/cascade the lists are paged and a task
 * shows no headers or cookies; under /api/v1/wx/cascade they answer as the original parent did: a bare array of
 * every enabled item, a task's `mps_id`, `headers` and `cookies` as JSON text.
 */
export async function childSyncRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  const tags = ['child'];
  const security = [{ aksk: [] }];
  const preValidation = normalising(normaliseChildBody);
  acceptEmptyJsonBodies(app);
  signedChildRequests(app);

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/feeds',
    {
      schema: { tags, security, summary: 'Enabled feeds (read-only sync)', querystring: ListQuery },
      onRequest: requireNode,
    },
    async (request) => {
      await store.nodes.touchSync(nodeOf(request).id, Date.now());
      if (answersInOriginalShapes(request)) return ok(await store.feeds.listEnabled());
      const { limit, offset } = request.query;
      const { list, total } = await store.feeds.listEnabledPage(limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/message-tasks',
    {
      schema: { tags, security, summary: 'Enabled message tasks, without headers and cookies', querystring: ListQuery },
      onRequest: requireNode,
    },
    async (request) => {
      await store.nodes.touchSync(nodeOf(request).id, Date.now());
      if (answersInOriginalShapes(request)) return ok(await store.tasks.listEnabledOriginal());
      const { limit, offset } = request.query;
      const { rows, total } = await store.tasks.list({ status: EnabledStatus.enabled }, limit, offset);
      return ok(page(rows.map(toMessageTaskPublicView), total, limit, offset));
    },
  );

  app.post<{ Body: ReportResultBody }>(
    '/report-result',
    {
      schema: { tags, security, summary: 'Legacy result report, stored as a sync log', body: ReportResultBody },
      onRequest: requireNode,
      preValidation,
    },
    async (request) => {
      const node = nodeOf(request);
      const { task_id, results, timestamp } = request.body;
      const reportedAt = timestamp === undefined ? null : parseIsoTimestamp(timestamp);
      if (timestamp !== undefined && reportedAt === null)
        throw validationFailed([{ path: 'timestamp', message: 'is not a real date and time' }]);
      const now = Date.now();
      const failures = results.filter(isFailure).length;
      await store.syncLogs.record({
        node_id: node.id,
        operation: 'report_result',
        direction: 'push',
        status: failures > 0 ? SyncLogStatus.failed : SyncLogStatus.success,
        data_count: results.length,
        error_message: failures > 0 ? `${failures} of ${results.length} results failed` : null,
        extra_data: { task_id, results, timestamp: timestamp ?? null },
        started_at: reportedAt ?? now,
        completed_at: now,
      });
      return ok(null, 'Result recorded.');
    },
  );
}
