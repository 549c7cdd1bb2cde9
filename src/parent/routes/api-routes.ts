import type { FastifyInstance } from 'fastify';
import { allocationRoutes } from './admin/allocations.js';
import { articleRoutes } from './admin/articles.js';
import { nodeRoutes } from './admin/nodes.js';
import { schedulerRoutes } from './admin/scheduler.js';
import { childWorkRoutes } from './child/work.js';
import { loginRoutes } from './login.js';

export type RouteOptions = { hidden: boolean };

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
  await app.register(childWorkRoutes, { hidden, prefix: '/cascade' });
  await app.register(articleRoutes, { hidden });
}
