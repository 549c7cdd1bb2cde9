import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * The suspect rule of domain/node-liveness.ts as SQL over the `nodes` table, for placement and the sweeper: the
 * node said how often it beats and its last beat is `suspectAfterBeats` intervals old. Null for a node that never
 * said (the original child) is false, never unknown, so `not(...)` keeps such nodes.
 */
export function nodeIsSuspect(nowMs: number, suspectAfterBeats: number): RawBuilder<SqlBool> {
  return sql<SqlBool>`(nodes.heartbeat_interval_ms is not null and nodes.last_heartbeat_at + nodes.heartbeat_interval_ms * ${suspectAfterBeats} <= ${nowMs})`;
}
