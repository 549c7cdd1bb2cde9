import type { FastifyInstance } from 'fastify';
import { activityRoutes } from './admin/activity.js';
import { allocationRoutes } from './admin/allocations.js';
import { articleRoutes } from './admin/articles.js';
import { eventRoutes } from './admin/events.js';
import { feedRoutes } from './admin/feeds.js';
import { messageTaskRoutes } from './admin/message-tasks.js';
import { nodeRoutes } from './admin/nodes.js';
import { schedulerRoutes } from './admin/scheduler.js';
import { syncLogRoutes } from './admin/sync-logs.js';
import { userRoutes } from './admin/users.js';
import { childSyncRoutes } from './child/sync.js';
import { childWorkRoutes } from './child/work.js';
import { loginRoutes } from './login.js';
import type { RouteOptions } from '../schemas.js';

export type { RouteOptions };

/**
 * Every /api route, registered twice by app.ts: under /api/v1 (documented) and /api/v1/wx (the path the
 * original child client and web UI call; hidden from OpenAPI so it is documented once).
 */
export async function apiRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  const { hidden } = options;
  await app.register(loginRoutes, { hidden, prefix: '/auth' });
  await app.register(nodeRoutes, { hidden, prefix: '/cascade' });
  await app.register(allocationRoutes, { hidden, prefix: '/cascade' });
  await app.register(schedulerRoutes, { hidden, prefix: '/cascade' });
  await app.register(syncLogRoutes, { hidden, prefix: '/cascade' });
  await app.register(activityRoutes, { hidden, prefix: '/cascade' });
  await app.register(childWorkRoutes, { hidden, prefix: '/cascade' });
  await app.register(childSyncRoutes, { hidden, prefix: '/cascade' });
  await app.register(feedRoutes, { hidden });
  await app.register(messageTaskRoutes, { hidden });
  await app.register(userRoutes, { hidden });
  await app.register(articleRoutes, { hidden });
  await app.register(eventRoutes, { hidden });
}
