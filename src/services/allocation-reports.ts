import { CascadeError } from '../errors/cascade-error.js';
import type { NodeActor } from '../store/allocations/shared.js';
import type { Store } from '../store/store.js';
import type { AllocationRecord } from '../store/allocations/views.js';

/** A refusal that means "this report does not fit the allocation any more" (lost lease, or a state it cannot leave that way). */
const isLateReport = (error: unknown): error is CascadeError =>
  error instanceof CascadeError && (error.code === 'LEASE_LOST' || error.code === 'INVALID_TRANSITION');

export type ReportOutcome = { allocation: AllocationRecord; moved: boolean };

/**
 * The rules about what a child's report does to an allocation (docs/protocol.md §3.2, §5), beyond the single moves
 * of the store: kept here, not in the route handlers, so every caller that reports for a node gets the same answer.
 */
export class AllocationReports {
  constructor(private readonly store: Store) {}

  /**
   * `task-status completed`, the original child's documented finish: a completion without per-feed results. From
   * `claimed` it starts the work first, since the original child may never have said `executing`.
   */
  async completeWithoutResults(id: string, actor: NodeActor, nowMs = Date.now()): Promise<ReportOutcome> {
    const complete = () => this.store.allocations.complete(id, actor, [], 0, nowMs);
    try {
      return await complete();
    } catch (error) {
      if (!(error instanceof CascadeError && error.code === 'INVALID_TRANSITION')) throw error;
      await this.store.allocations.start(id, actor, nowMs);
      return complete();
    }
  }

  /**
   * `task-status failed`. The same failure reported again (the node's own last attempt ended `failed`) is answered
   * as recorded (`moved: false`) and changes nothing, so a child retrying the call is not told it lost work it
   * already gave back; any other late failure is refused as the store refused it.
   */
  async fail(
    id: string,
    actor: NodeActor,
    errorMessage: string,
    retryable: boolean,
    nowMs = Date.now(),
  ): Promise<ReportOutcome> {
    try {
      return {
        allocation: await this.store.allocations.fail(id, actor, errorMessage, nowMs, retryable),
        moved: true,
      };
    } catch (refusal) {
      const repeated =
        isLateReport(refusal) &&
        (await this.store.allocations.views.lastAttemptFailedOn(id, actor.nodeId, actor.attempt));
      const current = repeated ? await this.store.allocations.views.get(id) : undefined;
      if (!current) throw refusal;
      return { allocation: current, moved: false };
    }
  }
}
