import type { Kysely } from 'kysely';
import { CascadeError } from '../../errors/cascade-error.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { AllocationTable, Database } from '../tables.js';
import { parseJson } from '../time.js';
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
export async function claimAllocations(store: ClaimStore, nodeId: string, max: number, nowMs: number): Promise<ClaimResult> {
  if (!store.caps.singleStatements) return claimInTransaction(store, nodeId, max, nowMs, { ownClaimed: false });
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
export type ClaimStore = { db: Kysely<Database>; caps: Capabilities; settings: LeaseSettings };

async function claimInTransaction({ db, caps, settings }: ClaimStore, nodeId: string, max: number, nowMs: number, { ownClaimed }: { ownClaimed: boolean }): Promise<ClaimResult> {
  return db.transaction().execute(async (trx): Promise<ClaimResult> => {
    const node = await trx
      .selectFrom('nodes')
      .select(['max_capacity', 'load_feeds', 'feed_quota'])
      .where('id', '=', nodeId)
      .$if(caps.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!node) return { rows: [], lockedUntaken: false };

    const own = ownClaimed ? [] : await candidates(trx, caps, nodeId, max, nowMs);
    let room = Number(node.max_capacity) - Number(node.load_feeds);
    const pooled: AllocationTable[] = [];
    let poolSeen = 0;
    if (own.length < max && room > 0) {
      const quota = parseJson<Record<string, number>>(node.feed_quota, {});
      const pool = await candidates(trx, caps, null, (max - own.length) * 4 + 16, nowMs, room);
      const holdsQuota = (row: AllocationTable) => (parseJson<string[]>(row.feed_ids, []).some((id) => (quota[id] ?? 0) > 0) ? 0 : 1);
      pool.sort((a, b) => holdsQuota(a) - holdsQuota(b));
      poolSeen = pool.length;
      for (const row of pool) {
        if (own.length + pooled.length >= max) break;
        if (Number(row.feed_count) > room) continue;
        pooled.push(row);
        room -= Number(row.feed_count);
      }
    }
    // Rows locked here but left pending were invisible to concurrent SKIP LOCKED claimers until this commits.
    const lockedUntaken = caps.skipLocked && poolSeen > pooled.length;
    if (own.length === 0 && pooled.length === 0) return { rows: [], lockedUntaken };

    const claimed = await transitionAll(trx, [...own, ...pooled], 'claim', { nowMs, settings, claimer: nodeId, values: { error_message: null } });
    // Another claimer took one of these rows between our read and write (possible only without row locks).
    if (!claimed) throw new CascadeError('CONFLICT', 'A concurrent claim took the same allocation; try again.');
    return { rows: claimed, lockedUntaken };
  });
}

export type ClaimResult = {
  rows: AllocationTable[];
  /** True when pooled rows were locked but not taken, so claimers that skipped them should look again. */
  lockedUntaken: boolean;
  /** Packages the claim already built, by allocation id (PostgreSQL's claim statement reads them itself). */
  packages?: ReadonlyMap<string, TaskPackage>;
};

/** Pending rows to claim, longest claimable first; `maxFeeds` skips pool rows too big for the node's free room. */
async function candidates(trx: Trx, caps: Capabilities, nodeId: string | null, limit: number, nowMs: number, maxFeeds?: number): Promise<AllocationTable[]> {
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
