import type { Logger } from 'pino';
import { NO_RETRY, ParentRejection, ParentUnreachable, describe, type ParentClient } from './parent-client.js';
import type { Outbox, OutboxCall } from './outbox.js';

export type DeliveryResult<T> =
  | { kind: 'delivered'; data: T }
  /** Parked in the outbox; it will be replayed in order when the parent answers again. */
  | { kind: 'queued' }
  /** The parent refused it for good (lease lost, unknown allocation, invalid); nothing to replay. */
  | { kind: 'rejected'; error: ParentRejection };

/**
 * Result-carrying calls go through here so none is lost: tried with retries, parked in the outbox when the
 * parent does not answer, and replayed oldest first. While anything is parked, new calls queue behind it so the
 * parent always sees one allocation's calls in the order they were made.
 */
export class Delivery {
  private flushing: Promise<boolean> | undefined;

  constructor(
    private readonly client: ParentClient,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  async send<T>(call: OutboxCall, signal?: AbortSignal): Promise<DeliveryResult<T>> {
    if (this.outbox.size() > 0) {
      this.outbox.enqueue(call);
      void this.flush();
      return { kind: 'queued' };
    }
    try {
      const data = await this.client.request<T>(call.method, call.path, { body: call.body, signal });
      return { kind: 'delivered', data };
    } catch (error) {
      if (error instanceof ParentRejection) {
        this.logRejection(call, error);
        return { kind: 'rejected', error };
      }
      this.outbox.enqueue(call);
      this.logger.warn(
        { allocation_id: call.allocationId, path: call.path, reason: describe(error), queued: this.outbox.size() },
        'parent unreachable; result kept in the outbox',
      );
      return { kind: 'queued' };
    }
  }

  pending(): number {
    return this.outbox.size();
  }

  /** Replays the outbox in order; true when it is empty afterwards. Concurrent callers share one pass. */
  flush(): Promise<boolean> {
    this.flushing ??= this.replay().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async replay(): Promise<boolean> {
    for (;;) {
      const [entry] = this.outbox.peek(1);
      if (!entry) return true;
      try {
        await this.client.request(entry.method, entry.path, { body: entry.body, retry: NO_RETRY });
        this.outbox.remove(entry.seq);
        this.logger.info(
          { allocation_id: entry.allocationId, path: entry.path, left: this.outbox.size() },
          'outbox call delivered',
        );
      } catch (error) {
        if (error instanceof ParentRejection) {
          this.outbox.remove(entry.seq);
          this.logRejection(entry, error);
          if (error.leaseGone) this.outbox.removeAllocation(entry.allocationId);
          continue;
        }
        this.outbox.noteAttempt(entry.seq);
        if (!(error instanceof ParentUnreachable))
          this.logger.warn({ reason: describe(error) }, 'outbox replay failed');
        return false;
      }
    }
  }

  private logRejection(call: OutboxCall, error: ParentRejection): void {
    const fields = { allocation_id: call.allocationId, path: call.path, status: error.status, code: error.code };
    if (error.leaseGone)
      this.logger.warn(
        fields,
        `parent no longer holds this allocation for us (${error.message}); dropping its remaining work`,
      );
    else this.logger.error({ ...fields, reason: error.message }, 'parent rejected a call; it will not be retried');
  }
}
