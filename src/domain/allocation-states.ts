/**
 * The allocation state machine (docs/protocol.md §5) as one table of legal moves, each with everything it does besides
 * changing `status`. store/allocations is the only writer of `status`, and it applies these entries through one
 * function (store/allocations/transition.ts); the PostgreSQL single statements are checked against them by a test.
 * docs/architecture.md shows the same table in words.
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

/** How an attempt ended, as the attempt history (`allocation_attempts.outcome`) records it. */
export const AttemptOutcome = Object.freeze({
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  leaseExpired: 'lease_expired',
  claimTimeout: 'claim_timeout',
  notHeld: 'not_held',
  nodeDeleted: 'node_deleted',
  /** No progress for two `stall_seconds` periods while the node kept beating (issue #17 item 4). */
  stalled: 'stalled',
} as const);

export type AttemptOutcome = (typeof AttemptOutcome)[keyof typeof AttemptOutcome];

/** Why a held allocation was taken from its holder by the sweeper or a heartbeat (expireRetry, expireFinal). */
export const EXPIRY_OUTCOMES = [
  AttemptOutcome.leaseExpired,
  AttemptOutcome.claimTimeout,
  AttemptOutcome.notHeld,
  AttemptOutcome.stalled,
] as const;

/** Requeue reasons the metrics count (`cascade_requeues_total{reason}`): the expiry outcomes, and the releases. */
export const RequeueReason = Object.freeze({
  leaseExpired: AttemptOutcome.leaseExpired,
  claimTimeout: AttemptOutcome.claimTimeout,
  notHeld: AttemptOutcome.notHeld,
  stalled: AttemptOutcome.stalled,
  nodeOffline: 'node_offline',
  preassignedUnclaimed: 'preassigned_unclaimed',
} as const);

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
  | 'release'
  | 'evict'
  | 'split';

/**
 * What a move does besides changing `status`. The holder's load counter (`nodes.load_feeds`) counts the feeds of
 * every live allocation it holds (pre-assigned pending work included), so `load` follows from the holder and
 * the states; the domain test checks that every entry keeps that invariant.
 */
export type MoveEffects = {
  /** `node_id`: kept, set to the claiming node, or cleared (back to the unassigned pool). */
  readonly holder: 'keep' | 'claimer' | 'pool';
  /**
   * The holder's `load_feeds`: `take` adds the feeds to the claimer's load (guarded by its max_capacity) unless
   * the row was pre-assigned to it, when dispatch counted them already; `free` subtracts them from the holder's.
   */
  readonly load: 'take' | 'free' | 'keep';
  /** Also stamps the holder's `last_sync_at`. */
  readonly stampsNodeSync: boolean;
  /**
   * The attempt history: `open` inserts the attempt's row, `start` stamps its start, `close` ends the open row
   * (only when the allocation was held: pending work has none) with one of `outcomes`.
   */
  readonly history:
    | { readonly kind: 'open' }
    | { readonly kind: 'start' }
    | { readonly kind: 'close'; readonly outcomes: readonly AttemptOutcome[] }
    | { readonly kind: 'keep' };
  /**
   * The live-feed index (`live_feeds`, one row per feed with unfinished work): `drop` removes the allocation's,
   * `add` puts them back (refused with CONFLICT when a feed has live work elsewhere), `handOver` leaves them for
   * the caller to re-point (a split gives them to its parts).
   */
  readonly liveFeeds: 'keep' | 'drop' | 'add' | 'handOver';
  /** `lease_expires_at`: set to now + lease_seconds, cleared, or kept. */
  readonly lease: 'set' | 'clear' | 'keep';
  /** `attempt`: the same, or the next one (a requeue). */
  readonly attempt: 'same' | 'next';
  /**
   * Per-host politeness (`host_state.in_flight`, docs/politeness.md): `take` counts the claimed rows' feeds per host
   * (the claim admitted them under the hosts' limits) and records them on the row (`held_hosts`); `free` gives back
   * what a held row's claim counted.
   */
  readonly hostSlots: 'take' | 'free' | 'keep';
  /**
   * Timestamps of the row the move sets to now or clears. A claim clears the progress clock (`progress_at`) and the
   * stall flag (`stalled_at`): progress belongs to one attempt, and its child starts reporting it afresh.
   */
  readonly times: Readonly<
    Partial<Record<'claimed_at' | 'started_at' | 'completed_at' | 'progress_at' | 'stalled_at', 'now' | 'clear'>>
  >;
};

export type MoveSpec = {
  readonly from: readonly AllocationStatus[];
  readonly to: AllocationStatus;
  readonly why: string;
  /** Only for rows without a holder (unassigned pool work). */
  readonly unassignedOnly?: true;
} & MoveEffects;

const requeue = {
  holder: 'pool',
  load: 'free',
  hostSlots: 'free',
  stampsNodeSync: false,
  liveFeeds: 'keep',
  lease: 'clear',
  attempt: 'next',
  times: { claimed_at: 'clear', started_at: 'clear' },
} as const;
const end = {
  holder: 'keep',
  load: 'free',
  hostSlots: 'free',
  stampsNodeSync: false,
  liveFeeds: 'drop',
  lease: 'clear',
  attempt: 'same',
  times: { completed_at: 'now' },
} as const;
const close = (...outcomes: AttemptOutcome[]) => ({ kind: 'close', outcomes }) as const;

/** from: the states a move may start in; to: where it lands; the rest: its effects (MoveEffects). */
export const MOVES: Readonly<Record<Move, MoveSpec>> = Object.freeze({
  claim: {
    why: 'a node claims pending work (its own pre-assigned work, or unassigned work it has room for)',
    from: ['pending'],
    to: 'claimed',
    holder: 'claimer',
    load: 'take',
    hostSlots: 'take',
    stampsNodeSync: false,
    history: { kind: 'open' },
    liveFeeds: 'keep',
    lease: 'set',
    attempt: 'same',
    times: { claimed_at: 'now', started_at: 'clear', progress_at: 'clear', stalled_at: 'clear' },
  },
  start: {
    why: 'the holder reports that it started',
    from: ['claimed'],
    to: 'executing',
    holder: 'keep',
    load: 'keep',
    hostSlots: 'keep',
    stampsNodeSync: false,
    history: { kind: 'start' },
    liveFeeds: 'keep',
    lease: 'set',
    attempt: 'same',
    times: { started_at: 'now' },
  },
  complete: {
    why: 'the holder reports its results',
    from: ['executing'],
    to: 'completed',
    ...end,
    stampsNodeSync: true,
    history: close(AttemptOutcome.completed),
  },
  failRetry: {
    why: 'the holder reports a failure and attempts are left',
    from: ['executing'],
    to: 'pending',
    ...requeue,
    history: close(AttemptOutcome.failed),
  },
  failFinal: {
    why: 'the holder reports a failure on the last attempt, or one retrying cannot fix',
    from: ['executing'],
    to: 'failed',
    ...end,
    history: close(AttemptOutcome.failed),
  },
  expireRetry: {
    why: 'the sweeper or a heartbeat takes held work from its holder (lease expired, claim never started, not listed as held, stalled) and attempts are left',
    from: ['claimed', 'executing'],
    to: 'pending',
    ...requeue,
    history: close(...EXPIRY_OUTCOMES),
  },
  expireFinal: {
    why: 'the same on the last attempt',
    from: ['claimed', 'executing'],
    to: 'timeout',
    ...end,
    history: close(...EXPIRY_OUTCOMES),
  },
  cancel: {
    why: 'an administrator cancels live work',
    from: ['pending', 'claimed', 'executing'],
    to: 'cancelled',
    ...end,
    history: close(AttemptOutcome.cancelled),
  },
  retry: {
    why: 'an administrator retries ended work, with a fresh attempt budget',
    from: ['failed', 'timeout', 'cancelled'],
    to: 'pending',
    holder: 'pool',
    load: 'keep',
    hostSlots: 'keep',
    stampsNodeSync: false,
    history: { kind: 'keep' },
    liveFeeds: 'add',
    lease: 'clear',
    attempt: 'next',
    times: { claimed_at: 'clear', started_at: 'clear', completed_at: 'clear' },
  },
  release: {
    why: 'pre-assigned pending work of an offline, suspect, disabled or deleted node, or unclaimed past the grace, goes back to the unassigned pool',
    from: ['pending'],
    to: 'pending',
    holder: 'pool',
    load: 'free',
    hostSlots: 'keep',
    stampsNodeSync: false,
    history: { kind: 'keep' },
    liveFeeds: 'keep',
    lease: 'keep',
    attempt: 'same',
    times: {},
  },
  evict: {
    why: 'held work of a deleted node goes back to the pool, claimable at once, without spending an attempt',
    from: ['claimed', 'executing'],
    to: 'pending',
    ...requeue,
    history: close(AttemptOutcome.nodeDeleted),
  },
  split: {
    why: 'unassigned pending work no active node can hold is cancelled; its parts, inserted with it, take its live feeds',
    from: ['pending'],
    to: 'cancelled',
    unassignedOnly: true,
    holder: 'keep',
    load: 'keep',
    hostSlots: 'keep',
    stampsNodeSync: false,
    history: { kind: 'keep' },
    liveFeeds: 'handOver',
    lease: 'keep',
    attempt: 'same',
    times: { completed_at: 'now' },
  },
} satisfies Record<Move, MoveSpec>);

export function canMove(move: Move, from: AllocationStatus): boolean {
  return MOVES[move].from.includes(from);
}

/** Delay before a requeued attempt becomes claimable: base · 2^(attempt-1), capped. */
export function retryDelaySeconds(failedAttempt: number, baseSeconds: number, capSeconds: number): number {
  if (baseSeconds <= 0) return 0;
  return Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, failedAttempt - 1));
}
