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

export const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 191 }) },
  { additionalProperties: false },
);

export const NoQuery = Type.Object({}, { additionalProperties: false });

/** An http(s) URL or the empty string ("none"), as the original UI stores optional addresses. */
export function OptionalHttpUrl(maxLength: number, description: string) {
  return Type.String({
    pattern: '^(https?://\\S+)?$',
    maxLength,
    description: `${description} An http(s) URL, or empty for none.`,
  });
}
