import type { AllocationProgress } from '../protocol/child-requests.js';

/** Statuses whose answer has no body (the Response constructor refuses one for them). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * How far one allocation has got, reported with every heartbeat (docs/protocol.md §4) so the parent can tell a
 * wedged fetch from slow work (dispatch.stall_seconds): feeds whose fetch ended, and response bytes read so far.
 */
export class ProgressCounter {
  feedsDone = 0;
  bytesRead = 0;

  constructor(readonly allocationId: string) {}

  /** The heartbeat's entry for this allocation. */
  report(): AllocationProgress {
    return { allocation_id: this.allocationId, feeds_done: this.feedsDone, bytes_read: this.bytesRead };
  }

  /**
   * `fetch` that counts the body bytes the executor reads through it, as they arrive: a feed that trickles keeps
   * making progress, one that hangs does not.
   */
  countingFetch(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const response = await inner(input, init);
      if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
      const counted = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform: (chunk, controller) => {
            this.bytesRead += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
      );
      const wrapped = new Response(counted, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      // The constructor cannot set these; executors may read them.
      Object.defineProperty(wrapped, 'url', { value: response.url });
      Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
      return wrapped;
    };
  }
}
