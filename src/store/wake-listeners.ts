import type { StoreLogger } from './connect.js';

/**
 * The subscribers of one wake channel. A throwing listener is logged and never stops the others: a wake is a hint
 * ("look again"), so losing one listener must not lose the rest.
 */
export class WakeListeners {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly logger: StoreLogger) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; the returned function removes it (calling it twice is harmless). */
  add(listener: () => void, onEmpty: () => void): () => void {
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = () => listener();
    this.listeners.add(entry);
    return () => {
      if (this.listeners.delete(entry) && this.listeners.size === 0) onEmpty();
    };
  }

  fire(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.logger.warn({ err: error }, 'wake listener threw; ignored');
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
