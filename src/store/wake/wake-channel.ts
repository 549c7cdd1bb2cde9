/**
 * "Work became claimable" notifications. The dispatch engine publishes after every transaction that makes work
 * claimable (dispatch, release, requeue, cancel of another holder, retry); long-poll claims subscribe. This
 * in-process channel reaches waiters of this parent only; cross-process delivery is layered on per dialect.
 */
export type WakeChannel = {
  publish(): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
};

export class InProcessWakeChannel implements WakeChannel {
  readonly #listeners = new Set<() => void>();

  async publish(): Promise<void> {
    this.deliver();
  }

  /** Calls every listener; a throwing listener never stops the others. */
  deliver(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A waiter that fails to wake times out on its own; the others must still wake.
      }
    }
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
