import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { RequeueReason } from '../domain/allocation-states.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';

/**
 * Every `sweep_interval_seconds`: requeue or time out expired leases and claims that never started, release
 * pre-assigned work of offline or suspect nodes and pre-assigned work left unclaimed too long, and wake waiters when retry backoffs have elapsed. Safe to run in every parent process at once: each
 * move is a guarded UPDATE, so two sweepers never requeue the same allocation twice.
 */
export class Sweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #lastSweepMs = Date.now();

  constructor(
    private readonly store: Store,
    private readonly dispatch: Config['dispatch'],
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass; exported for tests and for `cascade` commands that want an immediate sweep. */
  async sweepOnce(nowMs = Date.now()): Promise<{ requeued: number; timedOut: number; released: number }> {
    const expired = await this.store.allocations.expireLeases(nowMs);
    const unstarted = await this.store.allocations.expireUnstartedClaims(this.dispatch.claim_timeout_seconds, nowMs);
    const requeued = expired.requeued + unstarted.requeued;
    const timedOut = expired.timedOut + unstarted.timedOut;
    const releasedFromGone = await this.store.allocations.releaseOfflineNodes(this.dispatch.offline_after_seconds, nowMs, this.dispatch.suspect_after_beats);
    const releasedStale = await this.store.allocations.releaseStalePreassigned(this.dispatch.preassign_grace_seconds, nowMs);
    const released = releasedFromGone + releasedStale;
    const split = await this.store.allocations.splitOversizedPool(nowMs);
    if (split > 0) this.logger.info({ split }, 'split pooled allocations no node could hold');
    if (expired.requeued > 0) this.metrics?.requeues.inc({ reason: RequeueReason.leaseExpired }, expired.requeued);
    if (unstarted.requeued > 0) this.metrics?.requeues.inc({ reason: RequeueReason.claimTimeout }, unstarted.requeued);
    if (timedOut > 0) this.metrics?.timeouts.inc(timedOut);
    if (releasedFromGone > 0) this.metrics?.requeues.inc({ reason: RequeueReason.nodeOffline }, releasedFromGone);
    if (releasedStale > 0) this.metrics?.requeues.inc({ reason: RequeueReason.preassignedUnclaimed }, releasedStale);
    if (requeued + timedOut + released > 0) this.logger.info({ requeued, timedOut, released }, 'sweeper moved allocations');
    // Work whose retry backoff just ended becomes claimable without any write; tell waiters.
    if (requeued + released === 0 && (await this.store.allocations.backoffEnded(this.#lastSweepMs, nowMs))) await this.store.wake.publish();
    this.#lastSweepMs = nowMs;
    return { requeued, timedOut, released };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweepOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error }, 'sweeper pass failed; retrying next interval'))
        .finally(() => this.#schedule());
    }, this.dispatch.sweep_interval_seconds * 1000);
    this.#timer.unref();
  }
}
