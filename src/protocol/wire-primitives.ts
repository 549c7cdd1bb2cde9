import { Type, type TSchema } from '@sinclair/typebox';

/**
 * The pieces the wire shapes are built from (docs/protocol.md §1.2). Every object is closed
 * (`additionalProperties: false`): unknown fields are errors, so a child route's liberal input normalisation
 * (src/parent/routes/child/child-input.ts) drops what Cascade does not store before these check it. Every integer
 * has a maximum its column (32-bit `integer`, or `bigint` holding milliseconds) and the SQL drivers can hold, so an
 * oversized number is a 400, not a type error or an overflow in one store.
 */
export function closed<T extends Record<string, TSchema>>(properties: T, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

/** 9999-12-31T23:59:59Z: the largest Unix time in seconds accepted anywhere (stored as milliseconds in a bigint). */
const MAX_UNIX_SECONDS = 253_402_300_799;

export function UnixSeconds(description: string) {
  return Type.Integer({
    minimum: 0,
    maximum: MAX_UNIX_SECONDS,
    description: `${description} Unix seconds, up to year 9999.`.trim(),
  });
}

/** Articles one feed result may count: an upload holds at most 1,000, so this is generous and its sums fit a 32-bit column. */
export const ArticleCount = Type.Integer({ minimum: 0, maximum: 100_000 });

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 1000, description: 'An http(s) URL.' });

/** An allocation's id as a child names it in every report. */
export const AllocationId = Type.String({ minLength: 1, maxLength: 64 });

/** A feed id (`mp_id` on the wire), as the feeds table keeps it. */
export const FeedId = Type.String({ minLength: 1, maxLength: 191 });

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
  const offset =
    zone === undefined || zone.toUpperCase() === 'Z'
      ? 'Z'
      : zone.length === 5
        ? `${zone.slice(0, 3)}:${zone.slice(3)}`
        : zone;
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

/**
 * `timestamp` fields sent by children. The original Python child sends ISO strings without a zone
 * (`2026-11-27T09:30:00.123456`), the Go child RFC 3339; both are accepted and only informational.
 */
export const ChildTimestamp = Type.Optional(
  Type.Union(
    [
      Type.String({
        maxLength: 64,
        pattern: '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?$',
      }),
      Type.Number({ minimum: 0, maximum: MAX_UNIX_SECONDS * 1000 }),
    ],
    {
      description: 'When the child sent this (ISO 8601, zone optional, or Unix seconds); informational.',
    },
  ),
);
