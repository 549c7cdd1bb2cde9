import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DispatchSummary } from '../../dispatch/dispatcher.js';
import type { AllocationChange } from '../../store/activity.js';
import type { NodeView } from '../../store/nodes.js';
import type { Store } from '../../store/store.js';

export type ConsoleEvent =
  | { id: string; type: 'allocation'; data: AllocationChange }
  | { id: string; type: 'node'; data: NodeView }
  | { id: string; type: 'dispatch'; data: DispatchSummary };

export type ConsoleEventListener = (event: ConsoleEvent) => void;

export type ConsoleEventOptions = {
  /** How often the store is asked what changed while anybody watches. */
  pollIntervalMs?: number;
  /**
   * How far back each poll looks again. Another parent stamps `updated_at` with its own clock and may commit a
   * little after stamping, so a cursor of "the newest stamp seen" alone would skip such rows.
   */
  overlapMs?: number;
  /** Events kept for reconnecting viewers (Last-Event-ID). */
  replaySize?: number;
};

const MAX_ROWS_PER_POLL = 1000;

/**
 * The console's live feed. While at least one viewer is connected it polls the store for allocations that
 * changed and nodes whose derived status, load or settings changed, and fans the differences out; a parent's own
 * dispatches are added as they happen. Polling the shared tables (instead of in-process hooks) is what makes
 * moves made by other parents on the same database reach this parent's viewers.
 *
 * Event ids are `<boot>-<sequence>`: a viewer reconnecting with a Last-Event-ID of this boot gets the events it
 * missed from the replay buffer; any other id (a restarted parent, a pruned buffer) gets `undefined` and must
 * refetch what it shows.
 */
export class ConsoleEventFeed {
  readonly #boot = randomUUID().slice(0, 8);
  #sequence = 0;
  readonly #replay: ConsoleEvent[] = [];
  /** Listener → how to end its stream when the parent closes. */
  readonly #listeners = new Map<ConsoleEventListener, () => void>();
  readonly #pollIntervalMs: number;
  readonly #overlapMs: number;
  readonly #replaySize: number;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  /** Allocation id → `status|updated_at` already announced; entries older than the look-back window are pruned. */
  readonly #announced = new Map<string, { key: string; updatedAtMs: number }>();
  readonly #nodeKeys = new Map<string, string>();
  #cursorMs = 0;
  #primed = false;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Pick<Logger, 'warn'>,
    options: ConsoleEventOptions = {},
  ) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#overlapMs = options.overlapMs ?? 10_000;
    this.#replaySize = options.replaySize ?? 1000;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Starts polling with the first listener and stops with the last. `end` closes the listener's stream when the
   * parent shuts down (an open stream would otherwise hold the HTTP server open). Returns the unsubscribe function.
   */
  subscribe(listener: ConsoleEventListener, end: () => void = () => undefined): () => void {
    this.#listeners.set(listener, end);
    if (!this.#timer && !this.#closed) this.#schedule(0);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** Events after `lastEventId`, or undefined when that id is not from this boot's buffer. */
  eventsAfter(lastEventId: string): ConsoleEvent[] | undefined {
    const [boot, sequence] = lastEventId.split('-');
    if (boot !== this.#boot || sequence === undefined) return undefined;
    const index = this.#replay.findIndex((e) => e.id === lastEventId);
    if (index >= 0) return this.#replay.slice(index + 1);
    const oldest = this.#replay[0];
    // The asked id is newer than anything kept: nothing was missed. Older than the buffer: some were pruned.
    const wanted = Number(sequence);
    if (oldest === undefined) return wanted <= this.#sequence ? [] : undefined;
    return wanted > this.#sequence ? undefined : wanted < Number(oldest.id.split('-')[1]) ? undefined : [];
  }

  /** Called by the dispatcher of this parent after every dispatch (API, CLI via API, or cron). */
  publishDispatch(summary: DispatchSummary): void {
    this.#emit('dispatch', summary);
  }

  /** Polls once now (tests use it to avoid waiting an interval). */
  async pollNow(): Promise<void> {
    await this.#polling;
    await this.#poll();
  }

  /** Ends every open stream; viewers reconnect (to this parent after a restart, or to another one). */
  endStreams(): void {
    for (const end of [...this.#listeners.values()]) end();
    this.#listeners.clear();
    this.#stop();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.endStreams();
    this.#stop();
    await this.#polling;
  }

  #emit<T extends ConsoleEvent['type']>(type: T, data: Extract<ConsoleEvent, { type: T }>['data']): void {
    this.#sequence += 1;
    const event = { id: `${this.#boot}-${this.#sequence}`, type, data } as ConsoleEvent;
    this.#replay.push(event);
    if (this.#replay.length > this.#replaySize) this.#replay.shift();
    for (const listener of [...this.#listeners.keys()]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'a console event listener failed');
      }
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        if (this.#timer && this.#listeners.size > 0 && !this.#closed) this.#schedule(this.#pollIntervalMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // After a pause nothing is known about the meantime: the next start primes again instead of replaying it.
    this.#primed = false;
  }

  async #poll(): Promise<void> {
    try {
      const nowMs = Date.now();
      const announce = this.#primed;
      if (!this.#primed) {
        this.#announced.clear();
        this.#nodeKeys.clear();
        this.#cursorMs = nowMs;
      }
      await this.#pollAllocations(announce);
      await this.#pollNodes(nowMs, announce);
      this.#primed = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read recent changes for the console; retrying');
    }
  }

  async #pollAllocations(announce: boolean): Promise<void> {
    const since = this.#cursorMs - this.#overlapMs;
    const changes = await this.store.activity.allocationsChangedSince(since, MAX_ROWS_PER_POLL);
    for (const change of changes) {
      const key = `${change.status}|${change.updated_at_ms}`;
      if (this.#announced.get(change.id)?.key === key) continue;
      this.#announced.set(change.id, { key, updatedAtMs: change.updated_at_ms });
      if (announce) this.#emit('allocation', change);
    }
    const newest = changes.at(-1)?.updated_at_ms;
    // A full page means more rows wait: continue after the newest stamp seen (rows sharing that millisecond past
    // the page go unannounced; viewers refetch on any event, so they still see them). Otherwise all was read.
    this.#cursorMs =
      changes.length === MAX_ROWS_PER_POLL && newest !== undefined
        ? newest + 1 + this.#overlapMs
        : Math.max(this.#cursorMs, Date.now() - 1);
    for (const [id, seen] of this.#announced)
      if (seen.updatedAtMs < this.#cursorMs - 2 * this.#overlapMs) this.#announced.delete(id);
  }

  async #pollNodes(nowMs: number, announce: boolean): Promise<void> {
    const views = await this.store.activity.nodeViews(nowMs);
    const present = new Set<string>();
    for (const view of views) {
      present.add(view.id);
      // Heartbeat times change every few seconds and are not news; status, load and settings are.
      const key = `${view.status}|${view.current_tasks}|${view.updated_at}`;
      if (this.#nodeKeys.get(view.id) === key) continue;
      this.#nodeKeys.set(view.id, key);
      if (announce) this.#emit('node', view);
    }
    for (const id of this.#nodeKeys.keys()) if (!present.has(id)) this.#nodeKeys.delete(id);
  }
}
