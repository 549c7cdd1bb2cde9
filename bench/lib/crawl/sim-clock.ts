/**
 * A discrete-event loop over a simulated clock. Events run one at a time, in time order (ties in the order they
 * were scheduled), each with the clock set to its instant; an event may await the store, and the next one starts
 * only when it has finished, so a run is the same for the same seed and corpus.
 *
 * The store's moves take `nowMs`, and the simulation passes it; but the Dispatcher, the claimer and other parent
 * code read `Date.now()` themselves (no clock is injected there), so while a simulation runs `Date.now` is pinned
 * to the simulated clock and restored afterwards. Timers (`setTimeout`) keep real time: nothing in the simulated
 * paths waits on one.
 */
type SimEvent = { at: number; seq: number; run: () => Promise<void> | void };

export class SimClock {
  #now: number;
  #seq = 0;
  readonly #queue: SimEvent[] = [];
  #realNow: (() => number) | undefined;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Runs `run` at `at` (never before the current instant). */
  at(at: number, run: SimEvent['run']): void {
    push(this.#queue, { at: Math.max(at, this.#now), seq: this.#seq++, run });
  }

  after(ms: number, run: SimEvent['run']): void {
    this.at(this.#now + ms, run);
  }

  /** Runs every event up to `untilMs` (inclusive); events scheduled later stay unrun. Returns the events run. */
  async runUntil(untilMs: number): Promise<number> {
    this.#pin();
    let ran = 0;
    try {
      for (;;) {
        const next = this.#queue[0];
        if (!next || next.at > untilMs) break;
        pop(this.#queue);
        this.#now = next.at;
        await next.run();
        ran += 1;
      }
      this.#now = Math.max(this.#now, untilMs);
      return ran;
    } finally {
      this.#unpin();
    }
  }

  /** Runs `work` on the real clock (a progress line in the runner's log must carry real time). */
  onRealClock<T>(work: () => T): T {
    const realNow = this.#realNow;
    if (!realNow) return work();
    Date.now = realNow;
    try {
      return work();
    } finally {
      Date.now = () => this.#now;
    }
  }

  #pin(): void {
    if (this.#realNow) return;
    this.#realNow = Date.now;
    Date.now = () => this.#now;
  }

  #unpin(): void {
    if (!this.#realNow) return;
    Date.now = this.#realNow;
    this.#realNow = undefined;
  }
}

const before = (a: SimEvent, b: SimEvent) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** A binary min-heap on (at, seq). */
function push(heap: SimEvent[], event: SimEvent): void {
  heap.push(event);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i] as SimEvent, heap[parent] as SimEvent)) break;
    [heap[i], heap[parent]] = [heap[parent] as SimEvent, heap[i] as SimEvent];
    i = parent;
  }
}

function pop(heap: SimEvent[]): SimEvent | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || !last) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let smallest = i;
    if (l < heap.length && before(heap[l] as SimEvent, heap[smallest] as SimEvent)) smallest = l;
    if (r < heap.length && before(heap[r] as SimEvent, heap[smallest] as SimEvent)) smallest = r;
    if (smallest === i) break;
    [heap[i], heap[smallest]] = [heap[smallest] as SimEvent, heap[i] as SimEvent];
    i = smallest;
  }
  return top;
}
