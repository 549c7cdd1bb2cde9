/**
 * The delivery state machine as a table of legal moves; src/store/deliveries/ is the only writer of `status` and
 * guards each move with its `from` states.
 */
export const DeliveryStatus = Object.freeze({
  pending: 'pending',
  sending: 'sending',
  delivered: 'delivered',
  failed: 'failed',
} as const);
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export const ALL_DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.freeze(Object.values(DeliveryStatus));

export const DELIVERY_MOVES = Object.freeze({
  /** A sender takes a due delivery; the attempt counts from here and a lease starts. */
  claim: { from: ['pending'], to: 'sending' },
  /** The receiver answered 2xx. */
  deliver: { from: ['sending'], to: 'delivered' },
  /** A timeout, a 5xx or a 429 with attempts left, or a lease that expired under a stopped sender. */
  retry: { from: ['sending'], to: 'pending' },
  /** No attempts left, or an answer that retrying cannot change (a 4xx other than 429). */
  fail: { from: ['sending'], to: 'failed' },
  /** A user asks for it again: attempts start over. */
  redeliver: { from: ['delivered', 'failed'], to: 'pending' },
} as const satisfies Record<string, { from: readonly DeliveryStatus[]; to: DeliveryStatus }>);

export type DeliveryMove = keyof typeof DELIVERY_MOVES;

/** Delay before retry number `attempt + 1`: the base doubled per attempt, capped, and never less than Retry-After. */
export function deliveryRetryDelayMs(
  attempt: number,
  baseSeconds: number,
  maxSeconds: number,
  retryAfterSeconds?: number,
): number {
  const backoff = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(backoff, retryAfterSeconds ?? 0) * 1000;
}
