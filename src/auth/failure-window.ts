/** Keys tracked at most; past it the oldest are forgotten, so a spray of made-up names cannot grow memory. */
const MAX_TRACKED_KEYS = 50_000;

/** Failure times per key in a sliding window: past `limit` failures, the key waits until the oldest one leaves. */
export class FailureWindow {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds `key` must wait, or 0. */
  retryAfterSeconds(key: string, nowMs = Date.now()): number {
    const list = this.#prune(key, nowMs);
    if (list.length < this.limit) return 0;
    const oldest = list[list.length - this.limit] as number;
    return Math.max(1, Math.ceil((oldest + this.windowMs - nowMs) / 1000));
  }

  record(key: string, nowMs = Date.now()): void {
    const list = this.#prune(key, nowMs);
    list.push(nowMs);
    rememberBounded(this.#failures, key, list);
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  #prune(key: string, nowMs: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }
}

/** Sets `key` as the newest entry, forgetting the oldest past MAX_TRACKED_KEYS. */
export function rememberBounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED_KEYS) map.delete(map.keys().next().value as string);
}
