import type { FastifyInstance } from 'fastify';
import { nodeRoutes } from './admin/nodes.js';
import { loginRoutes } from './login.js';

export type RouteOptions = { hidden: boolean };

/**
 * Every /api route, registered twice by app.ts: under /api/v1 (documented) and /api/v1/wx (the path the
 * original child client and web UI call; hidden from OpenAPI so it is documented once).
 */
export async function apiRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  await app.register(loginRoutes, { hidden: options.hidden, prefix: '/auth' });
  await app.register(nodeRoutes, { hidden: options.hidden, prefix: '/cascade' });
}
