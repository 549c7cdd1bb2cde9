import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { dropIndex } from '../dialects/ddl.js';

/**
 * Three things the reliability issue (#11) needs from the schema:
 * - `allocations.claimable_at`: when a pending allocation became claimable (its dispatch, or the end of its retry
 *   backoff), kept by every move that makes work pending. Claims take work in this order, not by `created_at`,
 *   which a whole dispatch shares and which a requeued attempt keeps. The claim order index moves to it: the
 *   claim reads `status = 'pending' AND node_id = ? AND available_at <= now ORDER BY claimable_at, id`.
 *   Rows written before this migration get the later of their creation and their backoff end.
 * - `nodes.heartbeat_interval_ms`: the beat the child says it keeps, so liveness is judged against the node's own
 *   rhythm (null for the original child, which does not say).
 * - `feeds.etag`, `feeds.last_modified`: the conditional-GET validators of the last completion the parent
 *   accepted for the feed; they travel in the task package so no child keeps validators of its own.
 */
export function livenessAndValidatorsMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('allocations')
        .addColumn('claimable_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update allocations set claimable_at = case when available_at > created_at then available_at else created_at end`.execute(
        db,
      );
      await dropIndex(db, caps, 'allocations_claim_order_idx', 'allocations').execute();
      await db.schema
        .createIndex('allocations_claimable_order_idx')
        .on('allocations')
        .columns(['status', 'node_id', 'claimable_at', 'id'])
        .execute();
      await db.schema.alterTable('nodes').addColumn('heartbeat_interval_ms', 'bigint').execute();
      // Validators are opaque header values; 1000 characters is far above what servers send and fits every index-free column.
      await db.schema.alterTable('feeds').addColumn('etag', 'varchar(1000)').execute();
      await db.schema.alterTable('feeds').addColumn('last_modified', 'varchar(200)').execute();
    },
  };
}
