import { FailureWindow, rememberBounded } from './failure-window.js';

/** The per-username wait after the free failures: 4 s, then doubled per further failure up to the cap. */
const FIRST_ACCOUNT_DELAY_MS = 4000;

type LoginLimits = {
  /** Failures per (username, address) and, times four, per address, within `windowMs`. */
  maxFailures: number;
  windowMs: number;
  /** Failures on one username from any address before each further attempt waits. */
  accountFreeFailures: number;
  accountMaxDelayMs: number;
};

/** What a refusal is about, for the log line that reports the start of a lockout. */
type Lockout = { scope: 'address' | 'username at address' | 'username'; retryAfterSeconds: number };

/**
 * Three limits on password guessing, none of which locks anything for good:
 * - per (username, address) and per address: a sliding window; past the limit, 429 until the oldest failure
 *   leaves the window. A success clears the pair.
 * - per username across every address: after `accountFreeFailures` failures, each further attempt must wait
 *   4 s, 8 s, 16 s … (doubling per failure, capped at `accountMaxDelayMs`) after the latest failure. Spreading
 *   guesses over many addresses then buys one guess per delay, while the owner, from any address, is held off
 *   at most `accountMaxDelayMs` after the latest failed guess. A success clears the username's count.
 */
export class LoginLimiter {
  readonly #pairs: FailureWindow;
  readonly #addresses: FailureWindow;
  readonly #accounts = new Map<string, { count: number; lastMs: number }>();

  constructor(private readonly limits: LoginLimits) {
    this.#pairs = new FailureWindow(limits.maxFailures, limits.windowMs);
    this.#addresses = new FailureWindow(limits.maxFailures * 4, limits.windowMs);
  }

  /** The lockout in force for this attempt, or undefined when a login may be attempted now. */
  lockout(username: string, ip: string, nowMs = Date.now()): Lockout | undefined {
    const candidates: Lockout[] = [
      { scope: 'username at address', retryAfterSeconds: this.#pairs.retryAfterSeconds(pairKey(username, ip), nowMs) },
      { scope: 'address', retryAfterSeconds: this.#addresses.retryAfterSeconds(ip, nowMs) },
      { scope: 'username', retryAfterSeconds: this.#accountWait(username, nowMs) },
    ];
    const longest = candidates.reduce((a, b) => (b.retryAfterSeconds > a.retryAfterSeconds ? b : a));
    return longest.retryAfterSeconds > 0 ? longest : undefined;
  }

  /** Records a failure; returns the lockout it starts, when this failure starts one (so it is logged once). */
  recordFailure(username: string, ip: string, nowMs = Date.now()): Lockout | undefined {
    const before = this.lockout(username, ip, nowMs);
    this.#pairs.record(pairKey(username, ip), nowMs);
    this.#addresses.record(ip, nowMs);
    // lockout() above has already forgotten a count older than the window.
    rememberBounded(this.#accounts, username, { count: (this.#accounts.get(username)?.count ?? 0) + 1, lastMs: nowMs });
    return before ? undefined : this.lockout(username, ip, nowMs);
  }

  recordSuccess(username: string, ip: string): void {
    this.#pairs.clear(pairKey(username, ip));
    this.#accounts.delete(username);
  }

  #accountWait(username: string, nowMs: number): number {
    const account = this.#accounts.get(username);
    if (!account) return 0;
    // A username left alone for a whole window starts afresh.
    if (nowMs - account.lastMs > this.limits.windowMs) {
      this.#accounts.delete(username);
      return 0;
    }
    const over = account.count - this.limits.accountFreeFailures;
    if (over < 0) return 0;
    const delayMs = Math.min(this.limits.accountMaxDelayMs, FIRST_ACCOUNT_DELAY_MS * 2 ** Math.min(over, 30));
    const remainingMs = account.lastMs + delayMs - nowMs;
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
  }
}

function pairKey(username: string, ip: string): string {
  return `${username}\u0000${ip}`;
}
