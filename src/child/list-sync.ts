import type { Logger } from 'pino';
import { NO_RETRY, describe, type ParentClient } from './parent-client.js';

export type ListCounts = { feeds: number; tasks: number };

/**
 * The original child's periodic sync (every `sync_interval`): read the enabled feeds and tasks. Cascade's child needs
 * neither list to work (each task package carries what it needs), but the call keeps the node's `last_sync_at` true
 * and shows in the log what the parent currently offers. Both answer shapes are read: paged `{list, total}` under
 * /api/v1/cascade, a bare array under /api/v1/wx/cascade.
 */
export class ListSync {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: ParentClient,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sync; a failure is logged and the next interval tries again. */
  async sync(): Promise<ListCounts | undefined> {
    try {
      const counts = { feeds: await this.count('/feeds'), tasks: await this.count('/message-tasks') };
      this.logger.debug(counts, 'synced the enabled feed and task lists');
      return counts;
    } catch (error) {
      this.logger.warn({ parent: this.client.currentUrl, reason: describe(error) }, 'feed and task sync failed');
      return undefined;
    }
  }

  private async count(path: string): Promise<number> {
    const data = await this.client.request<unknown[] | { total: number }>('GET', path, {
      query: { limit: 1 },
      retry: NO_RETRY,
    });
    return Array.isArray(data) ? data.length : data.total;
  }
}
