import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Shared request-schema pieces. Every object is closed (`additionalProperties: false`): unknown fields are errors.
 * Every integer has a maximum that its column (32-bit `integer`, or `bigint` holding milliseconds) and the SQL
 * drivers can hold, so an oversized number is a 400 here, not a type error or an overflow in one store.
 */
const MAX_OFFSET = 1_000_000_000;
export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size, 1..200.' }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: `Rows to skip, 0..${MAX_OFFSET}.` }),
};

/** 9999-12-31T23:59:59Z: the largest Unix time in seconds accepted anywhere (stored as milliseconds in a bigint). */
export const MAX_UNIX_SECONDS = 253_402_300_799;

export function UnixSeconds(description: string) {
  return Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS, description: `${description} Unix seconds, up to year 9999.`.trim() });
}

/** Articles one feed result may count: an upload holds at most 1,000, so this is generous and its sums fit a 32-bit column. */
export const ArticleCount = Type.Integer({ minimum: 0, maximum: 100_000 });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 191 }) }, { additionalProperties: false });

export const NoQuery = Type.Object({}, { additionalProperties: false });

export function closed<T extends Record<string, TSchema>>(properties: T, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 1000, description: 'An http(s) URL.' });

const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** ISO 8601 date-time with or without a zone; the original Python child sends `2026-11-27T09:30:00.123456`. */
export const IsoTimestamp = Type.String({
  pattern: ISO_TIMESTAMP.source,
  maxLength: 64,
  description: 'ISO 8601 date-time; without a zone it is taken as UTC. Fractions beyond milliseconds are dropped.',
});

/** Epoch milliseconds of an IsoTimestamp, or null when it names no real instant (such as month 13). */
export function parseIsoTimestamp(text: string): number | null {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return null;
  const [, date, time, fraction, zone] = match;
  const millis = (fraction ?? '').padEnd(3, '0').slice(0, 3);
  const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(`${date}T${time}.${millis}${offset}`);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2026-02-30 over to March; a round trip catches it.
  const utcDate = new Date(ms + offsetMinutes(offset) * 60000).toISOString().slice(0, 10);
  return utcDate === date ? ms : null;
}

function offsetMinutes(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
}

/** An http(s) URL or the empty string ("none"), as the original UI stores optional addresses. */
export function OptionalHttpUrl(maxLength: number, description: string) {
  return Type.String({ pattern: '^(https?://\\S+)?$', maxLength, description: `${description} An http(s) URL, or empty for none.` });
}
