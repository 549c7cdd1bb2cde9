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
import { hostsRoutes } from './admin/hosts.js';
import { statusRoutes } from './admin/status.js';
import { syncLogRoutes } from './admin/sync-logs.js';
import { userRoutes } from './admin/users.js';
import { childSyncRoutes } from './child/sync.js';
import { childWorkRoutes } from './child/work.js';
import { loginRoutes } from './login.js';
import { markLegacyRoute } from '../plugins/legacy-alias.js';

export type ApiRoutesOptions = {
  /** Registered under the legacy `/api/v1/wx` prefix: every route is marked by `markLegacyRoute`. */
  legacyAlias?: boolean;
};

/**
 * Every /api route, registered twice by app.ts: under /api/v1 (documented) and /api/v1/wx (the path the
 * original child client and web UI call; hidden from OpenAPI so it is documented once). Route modules take no
 * options: what differs under the alias is set by one `onRoute` hook (plugins/legacy-alias.ts).
 */
export async function apiRoutes(app: FastifyInstance, { legacyAlias = false }: ApiRoutesOptions): Promise<void> {
  // First: `onRoute` is encapsulated and sees only the routes registered after it, in this context and below.
  if (legacyAlias) app.addHook('onRoute', markLegacyRoute);
  await app.register(loginRoutes, { prefix: '/auth' });
  await app.register(nodeRoutes, { prefix: '/cascade' });
  await app.register(allocationRoutes, { prefix: '/cascade' });
  await app.register(schedulerRoutes, { prefix: '/cascade' });
  await app.register(hostsRoutes, { prefix: '/cascade' });
  await app.register(syncLogRoutes, { prefix: '/cascade' });
  await app.register(statusRoutes, { prefix: '/cascade' });
  await app.register(activityRoutes, { prefix: '/cascade' });
  await app.register(childWorkRoutes, { prefix: '/cascade' });
  await app.register(childSyncRoutes, { prefix: '/cascade' });
  await app.register(feedRoutes);
  await app.register(feedImportRoutes);
  await app.register(messageTaskRoutes);
  await app.register(userRoutes);
  await app.register(articleRoutes);
  await app.register(deliveryRoutes);
  await app.register(feedUrlRoutes);
  await app.register(eventRoutes);
}
