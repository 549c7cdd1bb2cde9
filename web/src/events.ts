import { apiCall } from './api';

export type LiveEventType = 'allocation' | 'node' | 'dispatch' | 'resync';
export type LiveEvent = { type: LiveEventType; data: Record<string, unknown> };
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

type Listener = (event: LiveEvent) => void;

const RETRY_MS = 2000;

/**
 * The live feed (GET /api/v1/events). EventSource cannot send the login token, so each connection starts with a
 * single-use ticket from POST /events/ticket. When the stream breaks (a parent restart) the browser would retry
 * with the spent ticket, so the connection is closed and reopened with a new ticket, carrying the last event id
 * so that the parent replays what was missed (or says `resync`).
 */
class LiveFeed {
  #source: EventSource | undefined;
  #lastEventId = '';
  #timer: number | undefined;
  #stopped = true;
  readonly #listeners = new Set<Listener>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  state: ConnectionState = 'connecting';

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    window.clearTimeout(this.#timer);
    this.#source?.close();
    this.#source = undefined;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  #setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const { data } = await apiCall<{ ticket: string }>('/events/ticket', { method: 'POST' });
      if (this.#stopped) return;
      const query = new URLSearchParams({ ticket: data.ticket });
      if (this.#lastEventId) query.set('last_event_id', this.#lastEventId);
      const source = new EventSource(`/api/v1/events?${query}`);
      this.#source = source;
      const resuming = this.#lastEventId !== '';
      source.onopen = () => {
        this.#setState('live');
        // A first connection has nothing to replay: whatever changed between the page's own reads and this moment
        // is caught by one refetch. A resumed one gets the missed events, or `resync`, from the parent.
        if (!resuming) this.#notify({ type: 'resync', data: {} });
      };
      source.onerror = () => {
        source.close();
        this.#retry();
      };
      for (const type of ['allocation', 'node', 'dispatch', 'resync'] as const) {
        source.addEventListener(type, (message: MessageEvent<string>) => {
          if (message.lastEventId) this.#lastEventId = message.lastEventId;
          this.#notify({ type, data: JSON.parse(message.data) as Record<string, unknown> });
        });
      }
    } catch {
      this.#retry();
    }
  }

  #notify(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#setState('reconnecting');
    window.clearTimeout(this.#timer);
    this.#timer = window.setTimeout(() => void this.#connect(), RETRY_MS);
  }
}

export const liveFeed = new LiveFeed();
