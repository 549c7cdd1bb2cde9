import type { Kysely } from 'kysely';
import { CascadeError } from '../../errors/cascade-error.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { AllocationTable, Database } from '../tables.js';
import { parseJson } from '../time.js';
import type { PolitenessRules } from '../../domain/host-politeness.js';
import { admitByHost } from './host-slots.js';
import type { LeaseSettings, Trx } from './shared.js';
import { claimOwnInOneStatement } from './single-statement.js';
import { transitionAll } from './transition.js';
import type { TaskPackage } from './views.js';

/**
 * Claims up to `max` allocations for a node: its own pre-assigned pending work first, then unassigned pending work
 * (feeds it holds quota for first, then the longest claimable) while it has free capacity. On SQLite and MySQL that is one
 * transaction; on PostgreSQL the own work is one statement of its own, committed before the transaction that
 * takes unassigned work (see below for a failure in between).
 *
 * Concurrency: in the transaction the node row is locked FOR UPDATE on PostgreSQL and MySQL, which serialises
 * claims of one node (so its capacity can't be overbooked), and candidate rows are taken FOR UPDATE SKIP LOCKED,
 * so concurrent claimers of other nodes pass each other instead of queueing. SQLite serialises write transactions.
 * Every UPDATE is still guarded on `status = 'pending'` and checked, so a lost race rolls back instead of
 * double-claiming.
 */
export async function claimAllocations(
  store: ClaimStore,
  nodeId: string,
  max: number,
  nowMs: number,
): Promise<ClaimResult> {
  // The own-work statement cannot weigh hosts (their keys are computed here, from the feeds' URLs): with
  // politeness on, every claim takes the transaction.
  if (!store.caps.singleStatements || store.politeness.enabled)
    return claimInTransaction(store, nodeId, max, nowMs, { ownClaimed: false });
  // PostgreSQL: the node's own pre-assigned work in one statement, with its packages; the transaction only for
  // what is left.
  const own = await claimOwnInOneStatement(store.db, store.settings, nodeId, max, nowMs);
  const ownRows = own.map((claimed) => claimed.row);
  const packages = new Map(own.map((claimed) => [claimed.row.id, claimed.package]));
  if (own.length === max) return { rows: ownRows, lockedUntaken: false, packages };
  try {
    // The statement just took every own row it could; the transaction goes straight to unassigned work.
    const rest = await claimInTransaction(store, nodeId, max - own.length, nowMs, { ownClaimed: true });
    return { rows: [...ownRows, ...rest.rows], lockedUntaken: rest.lockedUntaken, packages };
  } catch (error) {
    // The own rows are committed: failing now would leave them claimed by a node that never got them, until
    // their lease ran out at the cost of an attempt. A claim hands out up to `max`, so answer with them; the
    // node's next claim tries the rest again (and meets the error, if it lasts). Waiters look again too.
    if (own.length === 0) throw error;
    return { rows: ownRows, lockedUntaken: true, packages };
  }
}

/** What a claim needs of the store. */
export type ClaimStore = {
  db: Kysely<Database>;
  caps: Capabilities;
  settings: LeaseSettings;
  politeness: PolitenessRules;
};

/** With politeness, rows of busy hosts are passed over: look further down the line than the claim will take. */
const POLITE_LOOKAHEAD = 64;

async function claimInTransaction(
  { db, caps, settings, politeness }: ClaimStore,
  nodeId: string,
  max: number,
  nowMs: number,
  { ownClaimed }: { ownClaimed: boolean },
): Promise<ClaimResult> {
  return db.transaction().execute(async (trx): Promise<ClaimResult> => {
    const node = await trx
      .selectFrom('nodes')
      .select(['max_capacity', 'load_feeds', 'feed_quota'])
      .where('id', '=', nodeId)
      .$if(caps.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!node) return { rows: [], lockedUntaken: false };

    const ownLimit = politeness.enabled ? max + POLITE_LOOKAHEAD : max;
    const own = ownClaimed ? [] : await candidates(trx, caps, nodeId, ownLimit, nowMs);
    let room = Number(node.max_capacity) - Number(node.load_feeds);
    let pool: AllocationTable[] = [];
    if ((politeness.enabled || own.length < max) && room > 0) {
      const quota = parseJson<Record<string, number>>(node.feed_quota, {});
      pool = await candidates(
        trx,
        caps,
        null,
        Math.max(0, max - own.length) * 4 + 16 + (politeness.enabled ? POLITE_LOOKAHEAD : 0),
        nowMs,
        room,
      );
      const holdsQuota = (row: AllocationTable) =>
        parseJson<string[]>(row.feed_ids, []).some((id) => (quota[id] ?? 0) > 0) ? 0 : 1;
      pool.sort((a, b) => holdsQuota(a) - holdsQuota(b));
    }
    // Own work first (dispatch counted its feeds in the node's load), then pool work that fits the node's room.
    let taken = 0;
    const take = (row: AllocationTable): boolean => {
      if (taken >= max) return false;
      if (row.node_id === null) {
        if (Number(row.feed_count) > room) return false;
        room -= Number(row.feed_count);
      }
      taken += 1;
      return true;
    };
    const seen = [...own, ...pool];
    const admission = politeness.enabled ? await admitByHost(trx, caps, politeness, seen, take, nowMs) : undefined;
    const chosen = admission?.admitted ?? seen.filter(take);
    if (admission) await noteWaiting(trx, seen, admission.waiting);
    // Rows locked here but left pending were invisible to concurrent SKIP LOCKED claimers until this commits; rows
    // that wait for their hosts would wait for those claimers too, so they do not count.
    const passedOver = pool.filter((row) => !chosen.includes(row) && !admission?.waiting.has(row.id)).length;
    const lockedUntaken = caps.skipLocked && passedOver > 0;
    const hostsReadyAt = admission?.readyAt;
    if (chosen.length === 0) return { rows: [], lockedUntaken, hostsReadyAt };

    const claimed = await transitionAll(trx, chosen, 'claim', {
      nowMs,
      settings,
      claimer: nodeId,
      values: { error_message: null },
      hostsByRow: admission?.hostsByRow,
    });
    // Another claimer took one of these rows between our read and write (possible only without row locks).
    if (!claimed) throw new CascadeError('CONFLICT', 'A concurrent claim took the same allocation; try again.');
    return { rows: claimed, lockedUntaken, hostsReadyAt };
  });
}

/**
 * The placement note of work that waits for its hosts says why ("waiting: host example.com has 2 fetches in
 * flight"), ahead of the note placement wrote; written only when it changes, and dropped again once it is claimed.
 */
async function noteWaiting(
  trx: Trx,
  seen: readonly AllocationTable[],
  waiting: ReadonlyMap<string, string>,
): Promise<void> {
  for (const row of seen) {
    const why = waiting.get(row.id);
    const base = withoutWaitingNote(row.placement);
    const note = why === undefined ? base : `${why}; ${base}`.slice(0, 1000);
    if (note !== row.placement) {
      await trx
        .updateTable('allocations')
        .set({ placement: note })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .execute();
      row.placement = note;
    }
  }
}

const WAITING_NOTE = /^waiting: [^;]*; /;

function withoutWaitingNote(placement: string): string {
  return placement.replace(WAITING_NOTE, '');
}

export type ClaimResult = {
  rows: AllocationTable[];
  /** True when pooled rows were locked but not taken, so claimers that skipped them should look again. */
  lockedUntaken: boolean;
  /** Packages the claim already built, by allocation id (PostgreSQL's claim statement reads them itself). */
  packages?: ReadonlyMap<string, TaskPackage>;
  /** When work that waits for a host's interval or pause may go out (no completion will announce it). */
  hostsReadyAt?: number | undefined;
};

/** Pending rows to claim, longest claimable first; `maxFeeds` skips pool rows too big for the node's free room. */
async function candidates(
  trx: Trx,
  caps: Capabilities,
  nodeId: string | null,
  limit: number,
  nowMs: number,
  maxFeeds?: number,
): Promise<AllocationTable[]> {
  return trx
    .selectFrom('allocations')
    .selectAll()
    .where('status', '=', 'pending')
    .where('node_id', nodeId === null ? 'is' : '=', nodeId)
    .where('available_at', '<=', nowMs)
    .$if(maxFeeds !== undefined, (q) => q.where('feed_count', '<=', maxFeeds as number))
    .orderBy('claimable_at')
    .orderBy('id')
    .limit(limit)
    .$if(caps.rowLocks, (q) => q.forUpdate())
    .$if(caps.skipLocked, (q) => q.skipLocked())
    .execute();
}
