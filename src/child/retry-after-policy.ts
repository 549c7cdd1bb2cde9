/** How long the child may wait out a feed's `Retry-After` within one attempt. */
export type RetryAfterBudget = {
  /** `cascade.retry_after_max_seconds` in milliseconds; 0: never wait. */
  maxWaitMs: number;
  /** When the package's lease ends (parent clock, from the claim answer); undefined: an older parent sent none. */
  leaseExpiresAtMs: number | undefined;
  /** Kept free after the wait for the fetch itself and the report (the fetch timeout). */
  reserveMs: number;
};

/** Waits one feed may take within an attempt, so a server answering "in 1 s" forever cannot hold the work. */
export const MAX_RETRY_AFTER_WAITS = 3;

export type RetryAfterVerdict = { wait: true; waitMs: number } | { wait: false; reason: string };

/**
 * Whether to wait `retryAfterMs` and fetch again now, or to fail the feed for now (the parent retries it with its
 * backoff) with a reason that says why the child did not wait.
 */
export function decideRetryAfter(
  retryAfterMs: number,
  waitsSoFar: number,
  budget: RetryAfterBudget,
  nowMs: number,
): RetryAfterVerdict {
  const seconds = (ms: number): string => `${Math.ceil(ms / 1000)} s`;
  if (budget.maxWaitMs === 0)
    return { wait: false, reason: 'not waiting within the attempt (cascade.retry_after_max_seconds is 0)' };
  if (retryAfterMs > budget.maxWaitMs) {
    return {
      wait: false,
      reason: `not waiting ${seconds(retryAfterMs)} within the attempt: more than cascade.retry_after_max_seconds (${seconds(budget.maxWaitMs)})`,
    };
  }
  if (waitsSoFar >= MAX_RETRY_AFTER_WAITS)
    return { wait: false, reason: `still refused after waiting ${MAX_RETRY_AFTER_WAITS} times as asked` };
  if (budget.leaseExpiresAtMs !== undefined) {
    const left = budget.leaseExpiresAtMs - nowMs - budget.reserveMs;
    if (retryAfterMs > left) {
      return {
        wait: false,
        reason: `not waiting ${seconds(retryAfterMs)} within the attempt: the allocation's lease leaves ${seconds(Math.max(0, left))} after the fetch time`,
      };
    }
  }
  return { wait: true, waitMs: retryAfterMs };
}
