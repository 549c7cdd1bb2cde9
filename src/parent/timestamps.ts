import { Type } from '@sinclair/typebox';
import { MAX_UNIX_SECONDS } from './schemas.js';

/**
 * `timestamp` fields sent by children. The original Python child sends ISO strings without a zone
 * (`2026-11-27T09:30:00.123456`), the Go child RFC 3339; both are accepted and only informational.
 */
export const ChildTimestamp = Type.Optional(
  Type.Union([Type.String({ maxLength: 64, pattern: '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?$' }), Type.Number({ minimum: 0, maximum: MAX_UNIX_SECONDS * 1000 })], {
    description: 'When the child sent this (ISO 8601, zone optional, or Unix seconds); informational.',
  }),
);
