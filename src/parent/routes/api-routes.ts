import type { FastifyInstance } from 'fastify';
import { feedRoutes } from './admin/feeds.js';
import { messageTaskRoutes } from './admin/message-tasks.js';
import { nodeRoutes } from './admin/nodes.js';
import { syncLogRoutes } from './admin/sync-logs.js';
import { userRoutes } from './admin/users.js';
import { childSyncRoutes } from './child/sync.js';
import { loginRoutes } from './login.js';
import type { RouteOptions } from '../schemas.js';

export type { RouteOptions };

/**
 * Every /api route, registered twice by app.ts: under /api/v1 (documented) and /api/v1/wx (the path the
 * original child client and web UI call; hidden from OpenAPI so it is documented once).
 */
export async function apiRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  await app.register(loginRoutes, { hidden: options.hidden, prefix: '/auth' });
  await app.register(nodeRoutes, { hidden: options.hidden, prefix: '/cascade' });
  await app.register(syncLogRoutes, { hidden: options.hidden, prefix: '/cascade' });
  await app.register(childSyncRoutes, { hidden: options.hidden, prefix: '/cascade' });
  await app.register(feedRoutes, { hidden: options.hidden });
  await app.register(messageTaskRoutes, { hidden: options.hidden });
  await app.register(userRoutes, { hidden: options.hidden });
}
