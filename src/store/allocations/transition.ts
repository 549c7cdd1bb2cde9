import {
  HELD_STATUSES,
  LIVE_STATUSES,
  MOVES,
  type AllocationStatus,
  type AttemptOutcome,
  type Move,
  type MoveSpec,
} from '../../domain/allocation-states.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { AllocationTable } from '../tables.js';
import { parseJson } from '../time.js';
import { encodeHostCounts, freeHostSlots, recordHeldHosts, type HostCounts } from './host-slots.js';
import { adjustNodeLoad, closeAttempt, dropLiveFeeds, leaseUntil, type LeaseSettings, type Trx } from './shared.js';

/** What a move needs besides the rows: the time, the lease settings, and what its entry leaves to the caller. */
export type TransitionInput = {
  nowMs: number;
  settings: LeaseSettings;
  /** Columns the entry does not own: messages, placement notes, backoff times, results. */
  values?: Partial<AllocationTable>;
  /** `holder: 'claimer'`: the claiming node. */
  claimer?: string;
  /** `history: close`: how the attempt ended, when the entry allows more than one outcome. */
  outcome?: AttemptOutcome;
  /** `history: close`: the error the attempt history keeps (a reported failure). */
  attemptError?: string | null;
  /** An extra guard for the sweeper: the lease must have expired before this instant. */
  leaseExpiredBefore?: number;
  /** `hostSlots: take`: each row's feeds per host that the claim admitted (rows not listed count nothing). */
  hostsByRow?: ReadonlyMap<string, HostCounts>;
  /** An extra guard for the stall sweep: the progress clock must not have moved since this instant. */
  progressBefore?: number;
};

/**
 * Applies one move to one row: the guarded UPDATE (everything the caller read: status, attempt, holder, so a
 * concurrent move cannot slip between the read and the write) and every effect the move's entry in MOVES lists,
 * in the caller's transaction. Returns the row after the move, or undefined when the guard matched nothing.
 */
export async function transition(
  trx: Trx,
  row: AllocationTable,
  move: Move,
  input: TransitionInput,
): Promise<AllocationTable | undefined> {
  return (await transitionAll(trx, [row], move, input))?.[0];
}

/**
 * The same for several rows in one move (a claim, a release): one guarded UPDATE per (status, holder) the rows
 * share, then the effects, each node's load in one statement. Returns the rows after the move, or undefined
 * when the guard did not hold for every row; the effects are then not applied, and a caller that moved several
 * rows must throw, so that its transaction rolls back the rows that did move.
 */
export async function transitionAll(
  trx: Trx,
  rows: readonly AllocationTable[],
  move: Move,
  input: TransitionInput,
): Promise<AllocationTable[] | undefined> {
  if (rows.length === 0) return [];
  const spec = MOVES[move];
  if (spec.attempt === 'next' && rows.length > 1)
    throw new Error(`'${move}' gives each row its next attempt: move them one at a time`);
  if (spec.liveFeeds === 'add') await refuseBusyFeeds(trx, rows);
  const moved: AllocationTable[] = [];
  for (const group of groupByGuard(rows)) {
    const first = group[0] as AllocationTable;
    const set = { ...input.values, ...ownedValues(spec, first, input), status: spec.to };
    const result = await trx
      .updateTable('allocations')
      .set(set)
      .where('id', group.length === 1 ? '=' : 'in', group.length === 1 ? first.id : group.map((r) => r.id))
      .where('status', '=', first.status)
      .$if(group.length === 1, (q) => q.where('attempt', '=', first.attempt))
      .where('node_id', first.node_id === null ? 'is' : '=', first.node_id)
      .$if(input.leaseExpiredBefore !== undefined, (q) =>
        q.where('lease_expires_at', '<', input.leaseExpiredBefore as number),
      )
      .$if(input.progressBefore !== undefined, (q) => q.where('progress_at', '<', input.progressBefore as number))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== group.length) return undefined;
    moved.push(...group.map((row) => ({ ...row, ...set })));
  }
  await applyLoad(trx, spec, rows, move, input);
  await applyHistory(trx, spec, rows, move, input);
  await applyLiveFeeds(trx, spec, rows);
  // Last: a host row is locked after the node row in every move, as in the claim, so they cannot deadlock.
  if (spec.hostSlots === 'free') await freeHostSlots(trx, rows, input.nowMs);
  if (spec.hostSlots === 'take' && input.hostsByRow) {
    await recordHeldHosts(trx, rows, input.hostsByRow);
    for (const row of moved) row.held_hosts = encodeOrNull(input.hostsByRow.get(row.id));
  }
  return moved;
}

/** Rows one guarded UPDATE can move together: the same status and holder. */
function groupByGuard(rows: readonly AllocationTable[]): AllocationTable[][] {
  const groups = new Map<string, AllocationTable[]>();
  for (const row of rows) {
    const key = `${row.status}\u0000${row.node_id ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()];
}

/** The columns the move's entry owns: holder, lease, attempt, timestamps, updated_at. */
function ownedValues(spec: MoveSpec, row: AllocationTable, input: TransitionInput): Partial<AllocationTable> {
  const values: Partial<AllocationTable> = { updated_at: input.nowMs };
  if (spec.holder === 'claimer') values.node_id = required(input.claimer, 'claimer');
  if (spec.holder === 'pool') values.node_id = null;
  if (spec.lease === 'set') values.lease_expires_at = leaseUntil(input.nowMs, input.settings);
  if (spec.lease === 'clear') values.lease_expires_at = null;
  if (spec.attempt === 'next') values.attempt = Number(row.attempt) + 1;
  // The claim's hosts are written per row after the guarded UPDATE (recordHeldHosts); a row claimed without
  // politeness holds none.
  if (spec.hostSlots === 'take') values.held_hosts = null;
  for (const [column, change] of Object.entries(spec.times) as Array<[keyof typeof spec.times, 'now' | 'clear']>) {
    values[column] = change === 'now' ? input.nowMs : null;
  }
  return values;
}

/** Whether a row's feeds count toward its holder's load: it is live and has a holder. */
function counted(row: AllocationTable): boolean {
  return row.node_id !== null && LIVE_STATUSES.includes(row.status as AllocationStatus);
}

async function applyLoad(
  trx: Trx,
  spec: MoveSpec,
  rows: readonly AllocationTable[],
  move: Move,
  input: TransitionInput,
): Promise<void> {
  if (spec.load === 'take') {
    const claimer = required(input.claimer, 'claimer');
    // Work pre-assigned to the claimer was counted when it was dispatched.
    const feeds = rows.filter((row) => row.node_id !== claimer).reduce((n, row) => n + Number(row.feed_count), 0);
    if (!(await adjustNodeLoad(trx, claimer, feeds, input.nowMs)))
      throw new CascadeError('CONFLICT', 'The node filled up while claiming; try again.');
    return;
  }
  if (spec.load !== 'free') return;
  const perNode = new Map<string, number>();
  for (const row of rows)
    if (counted(row))
      perNode.set(row.node_id as string, (perNode.get(row.node_id as string) ?? 0) + Number(row.feed_count));
  for (const [nodeId, feeds] of perNode) {
    if (spec.stampsNodeSync) {
      // The load counter and the last sync time in one UPDATE: the same node row, one statement fewer.
      await trx
        .updateTable('nodes')
        .set((eb) => ({ load_feeds: eb('load_feeds', '-', feeds), last_sync_at: input.nowMs, updated_at: input.nowMs }))
        .where('id', '=', nodeId)
        .execute();
    } else {
      await adjustNodeLoad(trx, nodeId, -feeds, input.nowMs);
    }
  }
  if (spec.stampsNodeSync && perNode.size === 0)
    throw new Error(`'${move}' stamps its holder's sync time but the row has no holder`);
}

async function applyHistory(
  trx: Trx,
  spec: MoveSpec,
  rows: readonly AllocationTable[],
  move: Move,
  input: TransitionInput,
): Promise<void> {
  const history = spec.history;
  if (history.kind === 'open') {
    const nodeId = required(input.claimer, 'claimer');
    await trx
      .insertInto('allocation_attempts')
      .values(
        rows.map((row) => ({
          allocation_id: row.id,
          attempt: Number(row.attempt),
          node_id: nodeId,
          claimed_at: input.nowMs,
          started_at: null,
          ended_at: null,
          outcome: null,
          error_message: null,
        })),
      )
      .execute();
  } else if (history.kind === 'start') {
    for (const row of rows) {
      await trx
        .updateTable('allocation_attempts')
        .set({ started_at: input.nowMs })
        .where('allocation_id', '=', row.id)
        .where('attempt', '=', row.attempt)
        .execute();
    }
  } else if (history.kind === 'close') {
    const outcome = input.outcome ?? (history.outcomes.length === 1 ? history.outcomes[0] : undefined);
    if (outcome === undefined || !history.outcomes.includes(outcome))
      throw new Error(
        `'${move}' ends an attempt with one of ${history.outcomes.join(', ')}; got ${String(input.outcome)}`,
      );
    // Pending work has no open attempt: only a held allocation's attempt ends.
    for (const row of rows) {
      if (HELD_STATUSES.includes(row.status as AllocationStatus))
        await closeAttempt(trx, row.id, Number(row.attempt), outcome, input.nowMs, input.attemptError ?? null);
    }
  }
}

async function applyLiveFeeds(trx: Trx, spec: MoveSpec, rows: readonly AllocationTable[]): Promise<void> {
  if (spec.liveFeeds === 'drop') for (const row of rows) await dropLiveFeeds(trx, row.id);
  if (spec.liveFeeds === 'add') {
    for (const row of rows) {
      const feedIds = parseJson<string[]>(row.feed_ids, []);
      await trx
        .insertInto('live_feeds')
        .values(feedIds.map((feedId) => ({ feed_id: feedId, allocation_id: row.id })))
        .execute();
    }
  }
}

/** A feed may have one live allocation: work that comes back to life must not meet newer live work of its feeds. */
async function refuseBusyFeeds(trx: Trx, rows: readonly AllocationTable[]): Promise<void> {
  for (const row of rows) {
    const feedIds = parseJson<string[]>(row.feed_ids, []);
    const busy = await trx
      .selectFrom('live_feeds')
      .select(['feed_id', 'allocation_id'])
      .where('feed_id', 'in', feedIds)
      .execute();
    if (busy.length > 0) {
      throw new CascadeError(
        'CONFLICT',
        `Cannot retry: ${busy.map((b) => `feed ${b.feed_id} is live in allocation ${b.allocation_id}`).join('; ')}.`,
      );
    }
  }
}

function encodeOrNull(hosts: HostCounts | undefined): string | null {
  return hosts ? encodeHostCounts(hosts) : null;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`this move needs '${name}'`);
  return value;
}
