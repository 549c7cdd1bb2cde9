/**
 * Counts failed logins per (username, client address) and per client address in a sliding window. Past the
 * limit, logins answer 429 with Retry-After until the oldest failure leaves the window; nothing is ever locked
 * for good, and a success clears the pair's count.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds to wait before trying again, or 0 when a login may be attempted now. */
  retryAfterSeconds(username: string, ip: string, nowMs = Date.now()): number {
    const waits = [this.#wait(`u:${username}\u0000${ip}`, this.maxFailures, nowMs), this.#wait(`ip:${ip}`, this.maxFailures * 4, nowMs)];
    return Math.max(...waits);
  }

  recordFailure(username: string, ip: string, nowMs = Date.now()): void {
    for (const key of [`u:${username}\u0000${ip}`, `ip:${ip}`]) {
      const list = this.#prune(key, nowMs);
      list.push(nowMs);
      this.#failures.set(key, list);
    }
  }

  recordSuccess(username: string, ip: string): void {
    this.#failures.delete(`u:${username}\u0000${ip}`);
  }

  #wait(key: string, limit: number, nowMs: number): number {
    const list = this.#prune(key, nowMs);
    if (list.length < limit) return 0;
    const oldest = list[list.length - limit] as number;
    return Math.max(1, Math.ceil((oldest + this.windowMs - nowMs) / 1000));
  }

  #prune(key: string, nowMs: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }
}
