import type { Store } from '../store/store.js';

export type LeaseRenewal = { extended: number; requeued: number; timedOut: number };

/**
 * Which leases a heartbeat renews (docs/protocol.md §4), kept here rather than in the route: a heartbeat without a
 * list of the allocations the node holds (the original child) renews every lease the node holds; one with a list
 * renews only the listed ones, and what the node holds but left out is given back once `heldGraceSeconds` have
 * passed since its claim (requeued, or timed out on its last attempt).
 */
export async function renewLeases(
  store: Store,
  nodeId: string,
  held: readonly string[] | undefined,
  heldGraceSeconds: number,
  nowMs: number,
): Promise<LeaseRenewal> {
  if (held === undefined)
    return { extended: await store.allocations.extendLeases(nodeId, nowMs), requeued: 0, timedOut: 0 };
  return store.allocations.reconcileHeld(nodeId, held, heldGraceSeconds, nowMs);
}
