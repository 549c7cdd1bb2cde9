import { sql, type Kysely } from 'kysely';
import { HELD_STATUSES } from '../../domain/allocation-states.js';
import type { Database } from '../tables.js';

/** One allocation's progress as a Cascade child reports it with a heartbeat (docs/protocol.md §4). */
export type AllocationProgress = { allocationId: string; feedsDone: number; bytesRead: number };

/**
 * Records the progress a node reports for the allocations it holds. The progress clock (`progress_at`) moves only
 * when the counters changed, or on the attempt's first report (the claim cleared it); a change also lifts the
 * stall flag. Reports about allocations the node does not hold (requeued, never its own) change nothing.
 * Returns how many rows moved.
 */
export async function recordProgress(
  db: Kysely<Database>,
  nodeId: string,
  progress: readonly AllocationProgress[],
  nowMs: number,
): Promise<number> {
  let moved = 0;
  // One statement per allocation: a child holds a few at a time, and each guard needs its own counters.
  for (const { allocationId, feedsDone, bytesRead } of latestPerAllocation(progress)) {
    const result = await db
      .updateTable('allocations')
      .set({
        // A lifted stall flag is news for the console (its live feed follows updated_at). First, because MySQL
        // evaluates SET left to right: `stalled_at` here must still be the flag as it was.
        updated_at: sql<number>`case when stalled_at is null then updated_at else ${nowMs} end`,
        progress_at: nowMs,
        progress_feeds_done: feedsDone,
        progress_bytes_read: bytesRead,
        stalled_at: null,
      })
      .where('id', '=', allocationId)
      .where('node_id', '=', nodeId)
      .where('status', 'in', [...HELD_STATUSES])
      .where((eb) =>
        eb.or([
          eb('progress_at', 'is', null),
          eb('progress_feeds_done', '!=', feedsDone),
          eb('progress_bytes_read', '!=', bytesRead),
        ]),
      )
      .executeTakeFirst();
    moved += Number(result.numUpdatedRows);
  }
  return moved;
}

/**
 * Flags executing allocations whose progress has not moved for `stallSeconds` while their lease is still
 * renewed (the node keeps beating); a lapsed lease is the lease sweeper's. Returns how many were flagged now.
 */
export async function flagStalled(db: Kysely<Database>, stallSeconds: number, nowMs: number): Promise<number> {
  const result = await db
    .updateTable('allocations')
    // updated_at too: the console's live feed follows it, and a viewer should see the flag without a reload.
    .set({ stalled_at: nowMs, updated_at: nowMs })
    .where('status', '=', 'executing')
    .where('stalled_at', 'is', null)
    .where('progress_at', '<', nowMs - stallSeconds * 1000)
    .where('lease_expires_at', '>=', nowMs)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The last report per allocation, should a body name one twice. */
function latestPerAllocation(progress: readonly AllocationProgress[]): AllocationProgress[] {
  return [...new Map(progress.map((p) => [p.allocationId, p])).values()];
}
