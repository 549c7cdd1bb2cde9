import type { Transaction } from 'kysely';
import { retryDelaySeconds } from '../../domain/allocation-states.js';
import type { RefreshBounds } from '../../domain/feed-rhythm.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { Database } from '../tables.js';

export type Trx = Transaction<Database>;

/** A node reporting on an allocation, optionally naming the attempt its report is about. */
export type NodeActor = { nodeId: string; attempt?: number | undefined };

/** Dispatch-engine settings the store needs to compute leases and retry times. */
export type LeaseSettings = {
  leaseSeconds: number;
  maxAttempts: number;
  retryBackoffSeconds: number;
  retryBackoffMaxSeconds: number;
  /** `refresh.min_interval` / `refresh.max_interval` (docs/refresh.md); the defaults when absent. */
  refresh?: RefreshBounds | undefined;
};

export function leaseUntil(nowMs: number, settings: LeaseSettings): number {
  return nowMs + settings.leaseSeconds * 1000;
}

export function retryAt(nowMs: number, failedAttempt: number, settings: LeaseSettings): number {
  return nowMs + retryDelaySeconds(failedAttempt, settings.retryBackoffSeconds, settings.retryBackoffMaxSeconds) * 1000;
}

/** Rows per multi-row INSERT so one statement stays under the dialect's parameter limit. */
export function rowsPerInsert(caps: Capabilities, columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(caps.maxParameters / columns)));
}

/** Adds or removes feeds from a node's load counter; the guard keeps increments within max_capacity. */
export async function adjustNodeLoad(trx: Trx, nodeId: string, deltaFeeds: number, nowMs: number): Promise<boolean> {
  if (deltaFeeds === 0) return true;
  let query = trx
    .updateTable('nodes')
    .set((eb) => ({ load_feeds: eb('load_feeds', '+', deltaFeeds), updated_at: nowMs }))
    .where('id', '=', nodeId);
  if (deltaFeeds > 0) query = query.where((eb) => eb(eb('load_feeds', '+', deltaFeeds), '<=', eb.ref('max_capacity')));
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Closes the open attempt-history row of an allocation. */
export async function closeAttempt(
  trx: Trx,
  allocationId: string,
  attempt: number,
  outcome: string,
  nowMs: number,
  errorMessage: string | null = null,
): Promise<void> {
  await trx
    .updateTable('allocation_attempts')
    .set({ ended_at: nowMs, outcome, error_message: errorMessage })
    .where('allocation_id', '=', allocationId)
    .where('attempt', '=', attempt)
    .where('ended_at', 'is', null)
    .execute();
}

export async function dropLiveFeeds(trx: Trx, allocationId: string): Promise<void> {
  await trx.deleteFrom('live_feeds').where('allocation_id', '=', allocationId).execute();
}
