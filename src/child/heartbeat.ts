import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AllocationProgress, HeartbeatBody } from '../protocol/child-requests.js';
import type { HeartbeatAnswer } from '../protocol/parent-messages.js';
import { backoffDelayMs } from './backoff.js';
import { NO_RETRY, ParentRejection, describe, type ParentClient } from './parent-client.js';

/** Longest pause between heartbeats while the parent does not answer. */
const MAX_BACKOFF_MS = 60_000;

export type HeartbeatOptions = {
  client: ParentClient;
  logger: Logger;
  intervalMs: number;
  version: string;
  callbackUrl?: string | undefined;
  /** Feeds in the allocations this child holds right now. */
  currentTasks: () => number;
  /** Calls parked in the outbox, reported so the parent can show and alert on it. */
  outboxDepth: () => number;
  /**
   * Allocations this child holds: running, or with reports still queued. Read as the beat is sent, so a claim
   * answered after that is missing; the parent spares young claims for that reason (dispatch.held_grace_seconds).
   */
  heldAllocationIds: () => string[];
  /** Progress of the allocations running now (feeds done, bytes read), so the parent can tell a stall from slow work. */
  progress?: () => AllocationProgress[];
  /** Called after every answered heartbeat (the child replays its outbox then). */
  onAlive: (answer: HeartbeatAnswer) => void;
};

/**
 * Beats every interval while started. While the parent does not answer, the pause grows (capped exponential, up
 * to a minute), so a long outage costs few requests; the parent client says once that the parent is unreachable
 * and once that it is back, and each missed beat is only a debug line.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private inFlight: Promise<HeartbeatAnswer | undefined> | undefined;
  private failures = 0;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The pause before the next beat: the interval, or a growing backoff after missed beats. */
  nextDelayMs(): number {
    const { intervalMs } = this.options;
    return this.failures === 0
      ? intervalMs
      : backoffDelayMs(this.failures, intervalMs, Math.max(intervalMs, MAX_BACKOFF_MS));
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = setTimeout(() => void this.beat().finally(() => this.schedule()), this.nextDelayMs());
    this.timer.unref();
  }

  beat(): Promise<HeartbeatAnswer | undefined> {
    this.inFlight ??= this.send().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async send(): Promise<HeartbeatAnswer | undefined> {
    const { client, logger } = this.options;
    try {
      const answer = await client.request<HeartbeatAnswer>('POST', '/heartbeat', {
        body: {
          ...(this.options.callbackUrl ? { callback_url: this.options.callbackUrl } : {}),
          current_tasks: this.options.currentTasks(),
          outbox_depth: this.options.outboxDepth(),
          held_allocation_ids: this.options.heldAllocationIds(),
          heartbeat_interval_s: Math.max(1, Math.round(this.options.intervalMs / 1000)),
          ...(this.options.progress ? { progress: this.options.progress() } : {}),
          version: this.options.version,
          hostname: hostname(),
        } satisfies HeartbeatBody,
        retry: NO_RETRY,
      });
      this.failures = 0;
      this.options.onAlive(answer);
      return answer;
    } catch (error) {
      this.failures++;
      const fields = {
        parent: client.currentUrl,
        missed: this.failures,
        retry_in_ms: this.nextDelayMs(),
        reason: describe(error),
      };
      // A refusal (bad credentials, a disabled node) needs a human; an unreachable parent was announced once.
      if (error instanceof ParentRejection) logger.error(fields, 'parent refused the heartbeat');
      else logger.debug(fields, 'heartbeat failed');
      return undefined;
    }
  }
}
