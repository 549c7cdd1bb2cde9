import { Type, type Static } from '@sinclair/typebox';
import { Cron } from 'croner';
import type { FastifyInstance } from 'fastify';
import { ok } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed } from '../../schemas.js';

const ActivityQuery = closed({
  minutes: Type.Integer({
    minimum: 1,
    maximum: 1440,
    default: 60,
    description: 'Length of the per-minute series, in minutes.',
  }),
});

const MINUTE_MS = 60_000;
const NEXT_RUNS = 3;

/** Next runs of a cron expression, or the reason it has none (the scheduler reports bad ones the same way). */
function nextRuns(expression: string, count: number): { next_runs: string[]; error?: string } {
  try {
    return { next_runs: new Cron(expression, { paused: true }).nextRuns(count).map((d) => d.toISOString()) };
  } catch (error) {
    return { next_runs: [], error: (error as Error).message };
  }
}

/** GET /cascade/activity: what the console's overview shows, in one answer. */
export async function activityRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.get<{ Querystring: Static<typeof ActivityQuery> }>(
    '/activity',
    {
      onRequest: requireUser('read'),
      schema: {
        tags: ['dispatch'],
        summary:
          'Allocations by status, finished per minute, feeds by freshness and the next cron runs of enabled tasks',
        querystring: ActivityQuery,
      },
    },
    async (request) => {
      const nowMs = Date.now();
      const firstMinute = nowMs - (nowMs % MINUTE_MS) - (request.query.minutes - 1) * MINUTE_MS;
      const counted = new Map((await store.activity.finishedPerMinute(firstMinute)).map((m) => [m.minute_ms, m]));
      const perMinute = Array.from({ length: request.query.minutes }, (_, i) => {
        const minuteMs = firstMinute + i * MINUTE_MS;
        const counts = counted.get(minuteMs);
        return {
          minute: new Date(minuteMs).toISOString(),
          completed: counts?.completed ?? 0,
          failed: counts?.failed ?? 0,
        };
      });
      const tasks = (await store.tasks.listEnabled()).filter((t) => t.cronExp.trim() !== '');
      return ok({
        allocations_by_status: await store.allocations.views.countByStatus(),
        finished_per_minute: perMinute,
        feeds_by_freshness: await store.activity.feedFreshness(nowMs),
        cron: tasks.map((t) => ({
          task_id: t.id,
          task_name: t.name,
          cron_exp: t.cronExp.trim(),
          ...nextRuns(t.cronExp.trim(), NEXT_RUNS),
        })),
      });
    },
  );
}
