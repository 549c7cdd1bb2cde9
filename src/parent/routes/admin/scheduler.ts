import type { FastifyInstance } from 'fastify';
import { ok } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { NoQuery } from '../../schemas.js';

/** Cron scheduler control of this parent process. */
export async function schedulerRoutes(app: FastifyInstance): Promise<void> {
  const { scheduler } = app.services;
  const tags = ['scheduler'];
  const schema = (summary: string) => ({ tags, summary, querystring: NoQuery });
  app.get(
    '/scheduler',
    {
      onRequest: requireUser('read'),
      schema: schema('Scheduler state, jobs with next runs, invalid cron expressions'),
    },
    async () => ok(scheduler.state()),
  );
  app.post(
    '/start-scheduler',
    { onRequest: requireUser('write'), schema: schema('Start the cron scheduler') },
    async () => ok(await scheduler.start(), 'Scheduler started.'),
  );
  app.post(
    '/stop-scheduler',
    { onRequest: requireUser('write'), schema: schema('Stop the cron scheduler') },
    async () => ok(await scheduler.stop(), 'Scheduler stopped.'),
  );
  app.post(
    '/reload-scheduler',
    { onRequest: requireUser('write'), schema: schema('Re-read tasks and their cron expressions') },
    async () => ok(await scheduler.reload(), 'Scheduler reloaded.'),
  );
}
