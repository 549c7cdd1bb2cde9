import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { dropIndex } from '../dialects/ddl.js';

/**
 * Claim reads `WHERE status = 'pending' AND node_id = ? AND available_at <= now ORDER BY created_at, id LIMIT n`.
 * The first index (status, node_id, available_at, created_at) serves the range on available_at but not the
 * order, so every claim read and sorted all of a node's pending rows: with 2,000 pending allocations on one node
 * that was the costliest statement of a claim cycle. With created_at right after the equalities, the database
 * walks the index in claim order and stops at the first `limit` rows whose available_at has passed.
 * The old index goes: planners keep choosing it (two equalities plus a range look cheaper than two) and sort.
 * The sweeper's "backoff ended" probe (status = 'pending' AND available_at in a window) reads the pending
 * prefix of the new index instead, once per sweep.
 */
export function claimOrderIndexMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await dropIndex(db, caps, 'allocations_claim_idx', 'allocations').execute();
      await db.schema
        .createIndex('allocations_claim_order_idx')
        .on('allocations')
        .columns(['status', 'node_id', 'created_at', 'id'])
        .execute();
    },
  };
}
