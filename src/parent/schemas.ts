import { Type } from '@sinclair/typebox';

/**
 * Request-schema pieces of the admin API. The pieces it shares with the child wire (closed objects, URLs, Unix
 * seconds) are defined once in src/protocol/wire-primitives.ts and re-exported here for the admin routes.
 */
export { closed, HttpUrl, UnixSeconds } from '../protocol/wire-primitives.js';

const MAX_OFFSET = 1_000_000_000;
export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size, 1..200.' }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: `Rows to skip, 0..${MAX_OFFSET}.` }),
};

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 191 }) }, { additionalProperties: false });

export const NoQuery = Type.Object({}, { additionalProperties: false });

/**
 * What api-routes.ts passes to every route module. It lives here, not in api-routes.ts, so that route modules do not
 * import the file that imports them (a cycle the lint's madge check reports).
 */
export type RouteOptions = {
  hidden: boolean;
  /** Under `/api/v1/wx`: the child sync routes and `pending-tasks` answer in the original system's shapes (docs/protocol.md §3.2). */
  originalShapes: boolean;
};

/** An http(s) URL or the empty string ("none"), as the original UI stores optional addresses. */
export function OptionalHttpUrl(maxLength: number, description: string) {
  return Type.String({ pattern: '^(https?://\\S+)?$', maxLength, description: `${description} An http(s) URL, or empty for none.` });
}
