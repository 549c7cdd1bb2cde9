import type { FastifyRequest, FastifySchema, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route was registered under the legacy `/api/v1/wx` prefix (see `markLegacyRoute`). */
    originalShapes?: boolean;
  }
}

/**
 * The legacy `/api/v1/wx` alias: app.ts registers every /api route a second time under that prefix, the path the
 * original child client and web UI call. This `onRoute` hook marks each such route once, where it is declared, so
 * route modules take no options: it is hidden from OpenAPI (documented once, under /api/v1) and flagged in its route
 * config, where the child sync routes and `pending-tasks` read that they answer in the original system's shapes
 * (docs/protocol.md §3.2).
 *
 * `onRoute` is encapsulated and sees only routes declared after it: add it in the alias's plugin before any route
 * module is registered (api-routes.ts).
 */
export function markLegacyRoute(route: RouteOptions): void {
  route.schema = { ...route.schema, hide: true } as FastifySchema;
  route.config = { ...route.config, originalShapes: true };
}

/** Whether this request came in through the legacy alias, so it answers in the original system's shapes. */
export function answersInOriginalShapes(request: FastifyRequest): boolean {
  return request.routeOptions.config.originalShapes === true;
}
