import type { Store } from '../store/store.js';

const DAY_MS = 24 * 3600 * 1000;

/** `GET /pending-allocations` (docs/protocol.md §3.1): the work in the pool and what finished today. */
export type AllocationSummary = {
  pending_tasks: number;
  executing_tasks: number;
  completed_today: number;
  failed_today: number;
  online_nodes: number;
};

/**
 * The summary's rules in one place: claimed work counts as executing (a node holds it), "today" is the UTC day of
 * `nowMs`, and a node is online by `offline_after_seconds` (docs/protocol.md §4).
 */
export async function allocationSummary(
  store: Store,
  nowMs: number,
  offlineAfterSeconds: number,
): Promise<AllocationSummary> {
  const startOfDay = nowMs - (nowMs % DAY_MS);
  const counts = await store.allocations.views.countByStatus();
  return {
    pending_tasks: counts.pending ?? 0,
    executing_tasks: (counts.claimed ?? 0) + (counts.executing ?? 0),
    completed_today: await store.allocations.views.countFinishedSince('completed', startOfDay),
    failed_today: await store.allocations.views.countFinishedSince('failed', startOfDay),
    online_nodes: await store.dispatchSources.onlineNodeCount(nowMs, offlineAfterSeconds),
  };
}
