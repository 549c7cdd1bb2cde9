import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { NO_RETRY, describe, type ParentClient } from './parent-client.js';

export type HeartbeatAnswer = { status: string; node_id: string; node_name?: string; server_time: string; offline_after_s: number; leases_extended: number };

export type HeartbeatOptions = {
  client: ParentClient;
  logger: Logger;
  intervalMs: number;
  version: string;
  callbackUrl?: string | undefined;
  /** Feeds in the allocations this child holds right now. */
  currentTasks: () => number;
  /** Called after every answered heartbeat (the child replays its outbox then). */
  onAlive: (answer: HeartbeatAnswer) => void;
};

/** Beats every interval while started; a missed beat is logged and the next one simply tries again. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<HeartbeatAnswer | undefined> | undefined;
  private failures = 0;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
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
          version: this.options.version,
          hostname: hostname(),
        },
        retry: NO_RETRY,
      });
      if (this.failures > 0) logger.info({ parent: client.currentUrl, missed: this.failures }, 'parent answering heartbeats again');
      this.failures = 0;
      this.options.onAlive(answer);
      return answer;
    } catch (error) {
      this.failures++;
      logger.warn({ parent: client.currentUrl, missed: this.failures, reason: describe(error) }, 'heartbeat failed');
      return undefined;
    }
  }
}
