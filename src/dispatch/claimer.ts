import { CascadeError } from '../errors/cascade-error.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TaskPackage } from '../store/allocations/views.js';
import type { Store } from '../store/store.js';
import { isTransientDatabaseError } from '../store/dialects/transient-error.js';
import type { AllocationRecord } from '../store/allocations/views.js';

const CONFLICT_RETRIES = 5;
/** Shortest wait for a host's interval to end, so rounding cannot spin the loop. */
const MIN_HOST_WAIT_MS = 5;

/**
 * What made a waiting claim look at the store again (`cascade_claim_rechecks_total{cause}`): the wake channel, its
 * own timer (the wait ran out, or a host's interval ended), or an abort (the child went away, the parent stops).
 */
type RecheckCause = 'wake' | 'timer' | 'abort';

/**
 * Claims for a node, waiting up to `waitMs` for work. It subscribes to the wake channel before each attempt, so a
 * dispatch that commits between "found nothing" and "start waiting" still wakes it; it never polls the store.
 */
export class Claimer {
  readonly #shutdown = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly metrics?: Metrics,
  ) {}

  /** Ends every wait at once (parent shutdown); waiting claims answer with no work. */
  shutdown(): void {
    this.#shutdown.abort();
  }

  async claim(nodeId: string, max: number, waitMs: number, requestSignal?: AbortSignal): Promise<TaskPackage[]> {
    const signal = requestSignal ? AbortSignal.any([requestSignal, this.#shutdown.signal]) : this.#shutdown.signal;
    const deadline = Date.now() + waitMs;
    let woken = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.store.wake.subscribe(() => {
      woken = true;
      wake?.();
    });
    try {
      for (;;) {
        woken = false;
        const { packages, hostsReadyAt } = await this.#claimOnce(nodeId, max);
        if (packages.length > 0) return packages;
        const remaining = deadline - Date.now();
        if (remaining <= 0 || signal?.aborted) return [];
        // Work held back by a host's interval or pause: nothing announces its end, so look again then.
        const wait =
          hostsReadyAt === undefined
            ? remaining
            : Math.min(remaining, Math.max(MIN_HOST_WAIT_MS, hostsReadyAt - Date.now()));
        const cause = woken ? 'wake' : await waitForWake(wait, signal, (resolve) => (wake = resolve));
        wake = undefined;
        this.metrics?.claimRechecks.inc({ cause });
      }
    } finally {
      unsubscribe();
    }
  }

  async #claimOnce(
    nodeId: string,
    max: number,
  ): Promise<{ packages: TaskPackage[]; hostsReadyAt?: number | undefined }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { allocations, packages, hostsReadyAt } = await this.store.allocations.claimPackages(nodeId, max);
        this.#observe(allocations);
        return { packages, hostsReadyAt };
      } catch (error) {
        // A lost race between claimers (possible only where the database lacks SKIP LOCKED) is retried, and so is a
        // deadlock between claims and completions over host rows: the claim's transaction rolled back whole.
        const retryable =
          (error instanceof CascadeError && error.code === 'CONFLICT') || isTransientDatabaseError(error);
        if (!retryable || attempt >= CONFLICT_RETRIES) throw error;
      }
    }
  }

  #observe(allocations: AllocationRecord[]): void {
    if (!this.metrics || allocations.length === 0) return;
    const now = Date.now();
    this.metrics.claims.inc({ source: 'claim' }, allocations.length);
    for (const allocation of allocations)
      this.metrics.claimWaitSeconds.observe(Math.max(0, now - allocation.claimableAtMs) / 1000);
  }
}

/** Resolves with whichever ended the wait first. */
function waitForWake(
  ms: number,
  signal: AbortSignal | undefined,
  expose: (resolve: () => void) => void,
): Promise<RecheckCause> {
  return new Promise((resolve) => {
    const done = (cause: RecheckCause) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(cause);
    };
    const aborted = () => done('abort');
    const timer = setTimeout(() => done('timer'), ms);
    signal?.addEventListener('abort', aborted, { once: true });
    expose(() => done('wake'));
  });
}
