/**
 * The allocation state machine (docs/protocol.md §5) as one table of legal moves. store/allocations.ts is the only
 * writer of `status`, and it asks this table which source states each move may start from.
 */
export const AllocationStatus = Object.freeze({
  pending: 'pending',
  claimed: 'claimed',
  executing: 'executing',
  completed: 'completed',
  failed: 'failed',
  timeout: 'timeout',
  cancelled: 'cancelled',
} as const);

export type AllocationStatus = (typeof AllocationStatus)[keyof typeof AllocationStatus];

export const ALL_STATUSES: readonly AllocationStatus[] = Object.values(AllocationStatus);
export const LIVE_STATUSES: readonly AllocationStatus[] = ['pending', 'claimed', 'executing'];
export const HELD_STATUSES: readonly AllocationStatus[] = ['claimed', 'executing'];
export const FINAL_STATUSES: readonly AllocationStatus[] = ['completed', 'failed', 'timeout', 'cancelled'];

export type Move =
  | 'claim'
  | 'start'
  | 'complete'
  | 'failRetry'
  | 'failFinal'
  | 'expireRetry'
  | 'expireFinal'
  | 'cancel'
  | 'retry'
  | 'release';

/** from: the states a move may start in; to: where it lands. */
export const MOVES: Readonly<Record<Move, { from: readonly AllocationStatus[]; to: AllocationStatus }>> = Object.freeze({
  claim: { from: ['pending'], to: 'claimed' },
  start: { from: ['claimed'], to: 'executing' },
  complete: { from: ['executing'], to: 'completed' },
  failRetry: { from: ['executing'], to: 'pending' },
  failFinal: { from: ['executing'], to: 'failed' },
  expireRetry: { from: ['claimed', 'executing'], to: 'pending' },
  expireFinal: { from: ['claimed', 'executing'], to: 'timeout' },
  cancel: { from: ['pending', 'claimed', 'executing'], to: 'cancelled' },
  retry: { from: ['failed', 'timeout', 'cancelled'], to: 'pending' },
  /** Pre-assigned pending work of an offline, disabled or deleted node goes back to the unassigned pool. */
  release: { from: ['pending'], to: 'pending' },
});

export function canMove(move: Move, from: AllocationStatus): boolean {
  return MOVES[move].from.includes(from);
}

export function isLive(status: AllocationStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

/** Delay before a requeued attempt becomes claimable: base · 2^(attempt-1), capped. */
export function retryDelaySeconds(failedAttempt: number, baseSeconds: number, capSeconds: number): number {
  if (baseSeconds <= 0) return 0;
  return Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, failedAttempt - 1));
}
