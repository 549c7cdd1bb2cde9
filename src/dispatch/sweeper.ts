import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { RequeueReason } from '../domain/allocation-states.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';

/**
 * Every `sweep_interval_seconds`: requeue or time out expired leases, claims that never started and stalled work
 * (no progress for two `stall_seconds` periods while its node beats; flagged after the first), release
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
    const stalled = await this.#sweepStalled(nowMs);
    const requeued = expired.requeued + unstarted.requeued + stalled.requeued;
    const timedOut = expired.timedOut + unstarted.timedOut + stalled.timedOut;
    const releasedFromGone = await this.store.allocations.releaseOfflineNodes(
      this.dispatch.offline_after_seconds,
      nowMs,
      this.dispatch.suspect_after_beats,
    );
    const releasedStale = await this.store.allocations.releaseStalePreassigned(
      this.dispatch.preassign_grace_seconds,
      nowMs,
    );
    const released = releasedFromGone + releasedStale;
    const split = await this.store.allocations.splitOversizedPool(nowMs);
    if (split > 0) this.logger.info({ split }, 'split pooled allocations no node could hold');
    if (expired.requeued > 0) this.metrics?.requeues.inc({ reason: RequeueReason.leaseExpired }, expired.requeued);
    if (unstarted.requeued > 0) this.metrics?.requeues.inc({ reason: RequeueReason.claimTimeout }, unstarted.requeued);
    if (timedOut > 0) this.metrics?.timeouts.inc(timedOut);
    if (releasedFromGone > 0) this.metrics?.requeues.inc({ reason: RequeueReason.nodeOffline }, releasedFromGone);
    if (releasedStale > 0) this.metrics?.requeues.inc({ reason: RequeueReason.preassignedUnclaimed }, releasedStale);
    if (requeued + timedOut + released > 0)
      this.logger.info({ requeued, timedOut, released }, 'sweeper moved allocations');
    // Work whose retry backoff just ended becomes claimable without any write; tell waiters.
    if (requeued + released === 0 && (await this.store.allocations.backoffEnded(this.#lastSweepMs, nowMs)))
      await this.store.wake.publish();
    this.#lastSweepMs = nowMs;
    return { requeued, timedOut, released };
  }

  /** Stall detection (dispatch.stall_seconds; 0 turns it off): flag after one period, requeue after a second. */
  async #sweepStalled(nowMs: number): Promise<{ requeued: number; timedOut: number }> {
    const stallSeconds = this.dispatch.stall_seconds;
    if (stallSeconds <= 0) return { requeued: 0, timedOut: 0 };
    const { flagged, requeued, timedOut } = await this.store.allocations.sweepStalled(stallSeconds, nowMs);
    if (flagged > 0) {
      this.metrics?.stalls.inc(flagged);
      this.logger.warn(
        { flagged, stall_seconds: stallSeconds },
        'allocations stalled: no progress reported while their nodes keep beating',
      );
    }
    if (requeued > 0) this.metrics?.requeues.inc({ reason: RequeueReason.stalled }, requeued);
    if (requeued + timedOut > 0)
      this.logger.warn({ requeued, timed_out: timedOut }, 'stalled allocations taken from their nodes');
    return { requeued, timedOut };
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
