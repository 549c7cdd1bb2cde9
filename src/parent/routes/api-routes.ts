import type { FastifyInstance } from 'fastify';
import { activityRoutes } from './admin/activity.js';
import { allocationRoutes } from './admin/allocations.js';
import { articleRoutes } from './admin/articles.js';
import { deliveryRoutes } from './admin/deliveries.js';
import { feedUrlRoutes } from './admin/feed-urls.js';
import { eventRoutes } from './admin/events.js';
import { feedImportRoutes } from './admin/feed-import.js';
import { feedRoutes } from './admin/feeds.js';
import { messageTaskRoutes } from './admin/message-tasks.js';
import { nodeRoutes } from './admin/nodes.js';
import { schedulerRoutes } from './admin/scheduler.js';
import { statusRoutes } from './admin/status.js';
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
export async function apiRoutes(app: FastifyInstance, { hidden, originalShapes }: RouteOptions): Promise<void> {
  // Only these two: Fastify hands a plugin its own `prefix` too, which must not be applied twice.
  const options: RouteOptions = { hidden, originalShapes };
  await app.register(loginRoutes, { ...options, prefix: '/auth' });
  await app.register(nodeRoutes, { ...options, prefix: '/cascade' });
  await app.register(allocationRoutes, { ...options, prefix: '/cascade' });
  await app.register(schedulerRoutes, { ...options, prefix: '/cascade' });
  await app.register(syncLogRoutes, { ...options, prefix: '/cascade' });
  await app.register(statusRoutes, { ...options, prefix: '/cascade' });
  await app.register(activityRoutes, { ...options, prefix: '/cascade' });
  await app.register(childWorkRoutes, { ...options, prefix: '/cascade' });
  await app.register(childSyncRoutes, { ...options, prefix: '/cascade' });
  await app.register(feedRoutes, options);
  await app.register(feedImportRoutes, options);
  await app.register(messageTaskRoutes, options);
  await app.register(userRoutes, options);
  await app.register(articleRoutes, options);
  await app.register(deliveryRoutes, options);
  await app.register(feedUrlRoutes, options);
  await app.register(eventRoutes, options);
}
