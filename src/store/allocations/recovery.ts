import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AttemptOutcome, HELD_STATUSES, LIVE_STATUSES, type EXPIRY_OUTCOMES } from '../../domain/allocation-states.js';
import { NodeType, onlineSince } from '../../domain/node-liveness.js';
import { nodeIsSuspect } from '../node-liveness-sql.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { Capabilities } from '../dialects/capabilities.js';
import { StoredFlag } from '../stored-flag.js';
import type { AllocationTable, Database } from '../tables.js';
import { chunk, parseJson } from '../time.js';
import { failureRhythm, writeRhythm } from '../feed-rhythm.js';
import { move, requeueValues } from './moves.js';
import { leaseUntil, type LeaseSettings, type Trx } from './shared.js';
import { transition, transitionAll } from './transition.js';

/** Moves made by admins and by the sweeper: cancel, retry, lease expiry, release, node deletion. */
export class AllocationRecovery {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
    private readonly settings: LeaseSettings,
  ) {}

  /** Any live state → cancelled; the holder's capacity is freed. */
  cancel(id: string, nowMs: number): Promise<AllocationTable> {
    return move(this.db, this.caps.rowLocks, id, 'cancel', null, (trx, row) =>
      transition(trx, row, 'cancel', {
        nowMs,
        settings: this.settings,
        values: { error_message: 'cancelled by an administrator' },
      }),
    );
  }

  /** failed | timeout | cancelled → pending with a fresh attempt budget, unless a feed got new live work meanwhile. */
  retry(id: string, nowMs: number): Promise<AllocationTable> {
    return move(this.db, this.caps.rowLocks, id, 'retry', null, (trx, row) => {
      const nextAttempt = Number(row.attempt) + 1;
      const values: Partial<AllocationTable> = {
        ...requeueValues(row, nowMs, this.settings, null, 'retried by an administrator'),
        available_at: 0,
        claimable_at: nowMs,
        max_attempts: nextAttempt + this.settings.maxAttempts - 1,
      };
      return transition(trx, row, 'retry', { nowMs, settings: this.settings, values });
    });
  }

  /** Requeues (attempt + 1, after backoff) or times out allocations whose lease has expired. Returns how many moved. */
  async expireLeases(nowMs: number, batch = 500): Promise<Expired> {
    const expired = await this.db
      .selectFrom('allocations')
      .selectAll()
      .where('status', 'in', [...HELD_STATUSES])
      .where('lease_expires_at', '<', nowMs)
      .orderBy('lease_expires_at')
      .limit(batch)
      .execute();
    return this.#endHolds(expired, nowMs, EXPIRY_CAUSES.lease, { leaseExpiredBefore: nowMs });
  }

  /**
   * Claimed allocations that did not reach `executing` within `claimTimeoutSeconds`: the claim answer most likely
   * never reached the node (a reset connection, a parent killed as it answered). Requeued like an expired lease,
   * without waiting for the lease a heartbeat keeps renewing.
   */
  async expireUnstartedClaims(nowMs: number, claimTimeoutSeconds: number, batch = 500): Promise<Expired> {
    const stale = await this.db
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'claimed')
      .where('claimed_at', '<', nowMs - claimTimeoutSeconds * 1000)
      .orderBy('claimed_at')
      .limit(batch)
      .execute();
    return this.#endHolds(stale, nowMs, EXPIRY_CAUSES.claimTimeout);
  }

  /**
   * Flagged stalled allocations (see progress.ts) whose progress has still not moved after a second `stallSeconds`:
   * requeued like an expired lease, or `timeout` on their last attempt, although their node keeps beating. The
   * move is guarded on the progress clock too, so a report that arrives meanwhile keeps the allocation.
   */
  async expireStalled(nowMs: number, stallSeconds: number, batch = 500): Promise<Expired> {
    const before = nowMs - 2 * stallSeconds * 1000;
    const stalled = await this.db
      .selectFrom('allocations')
      .selectAll()
      .where('status', '=', 'executing')
      .where('stalled_at', 'is not', null)
      .where('progress_at', '<', before)
      .orderBy('progress_at')
      .limit(batch)
      .execute();
    return this.#endHolds(stalled, nowMs, EXPIRY_CAUSES.stalled, { progressBefore: before });
  }

  /**
   * A heartbeat that lists the allocations the child holds (`held_allocation_ids`): the leases of those are
   * renewed, and work the node holds but did not list is requeued, except claims younger than `graceSeconds` (their
   * answer may still be on its way to the child, or the heartbeat was built before it arrived).
   */
  async reconcileHeld(
    nodeId: string,
    heldIds: readonly string[],
    nowMs: number,
    graceSeconds: number,
  ): Promise<{ extended: number } & Expired> {
    let extended = 0;
    for (const ids of chunk([...new Set(heldIds)], 1000)) {
      const result = await this.db
        .updateTable('allocations')
        .set({ lease_expires_at: leaseUntil(nowMs, this.settings) })
        .where('id', 'in', ids)
        .where('node_id', '=', nodeId)
        .where('status', 'in', [...HELD_STATUSES])
        .executeTakeFirst();
      extended += Number(result.numUpdatedRows);
    }
    const listed = new Set(heldIds);
    const held = await this.db
      .selectFrom('allocations')
      .selectAll()
      .where('node_id', '=', nodeId)
      .where('status', 'in', [...HELD_STATUSES])
      .execute();
    const unlisted = held.filter(
      (row) => !listed.has(row.id) && Number(row.claimed_at ?? 0) < nowMs - graceSeconds * 1000,
    );
    return { extended, ...(await this.#endHolds(unlisted, nowMs, EXPIRY_CAUSES.notHeld)) };
  }

  /** Ends each row's hold as one guarded move (requeue, or timeout on the last attempt) in its own transaction. */
  async #endHolds(
    rows: readonly AllocationTable[],
    nowMs: number,
    cause: ExpiryCause,
    guard: { leaseExpiredBefore?: number; progressBefore?: number } = {},
  ): Promise<Expired> {
    let requeued = 0;
    let timedOut = 0;
    for (const row of rows) {
      const outcome = await this.db.transaction().execute(async (trx) => {
        const last = Number(row.attempt) >= Number(row.max_attempts);
        const values = last
          ? { error_message: cause.final(row) }
          : requeueValues(row, nowMs, this.settings, cause.error(row), cause.placement(row));
        const moved = await transition(trx, row, last ? 'expireFinal' : 'expireRetry', {
          nowMs,
          settings: this.settings,
          values,
          outcome: cause.outcome,
          ...guard,
        });
        if (!moved) return 'skipped';
        // Work that ended timed out backs its feeds off (docs/refresh.md).
        if (last)
          await writeRhythm(
            trx,
            await failureRhythm(trx, parseJson<string[]>(row.feed_ids, []), nowMs, this.settings.refresh),
          );
        return last ? 'timeout' : 'requeued';
      });
      if (outcome === 'requeued') requeued += 1;
      if (outcome === 'timeout') timedOut += 1;
    }
    return { requeued, timedOut };
  }

  /**
   * Pre-assigned pending work of offline, suspect (missed `suspectAfterBeats` of its own beats) or disabled nodes
   * goes back to the unassigned pool, quota or not. Returns how many.
   */
  async releaseOfflineNodes(nowMs: number, offlineAfterSeconds: number, suspectAfterBeats: number): Promise<number> {
    const since = onlineSince(nowMs, offlineAfterSeconds);
    const stranded = await this.db
      .selectFrom('allocations')
      .innerJoin('nodes', 'nodes.id', 'allocations.node_id')
      .select(['allocations.node_id as node_id', 'nodes.name as name'])
      .where('allocations.status', '=', 'pending')
      .where((eb) =>
        eb.or([
          eb('nodes.is_active', '=', StoredFlag.off),
          eb('nodes.last_heartbeat_at', 'is', null),
          eb('nodes.last_heartbeat_at', '<', since),
          nodeIsSuspect(nowMs, suspectAfterBeats),
        ]),
      )
      .groupBy(['allocations.node_id', 'nodes.name'])
      .execute();
    let released = 0;
    for (const { node_id: nodeId, name } of stranded) {
      if (!nodeId) continue;
      const reason = `released from ${name}, which went offline, missed its heartbeats or was disabled`;
      released += await this.db
        .transaction()
        .execute((trx) => releasePending(trx, this.caps, this.settings, nodeId, reason, nowMs));
    }
    return released;
  }

  /**
   * Placement is a preference, not a lock: pending work pre-assigned to a node that has not claimed it within
   * `graceSeconds` of becoming claimable goes back to the pool, so an idle node can take it (the node it was meant
   * for still can too). A quota pins it: work with a feed for which its node holds weight > 0 stays. Returns how
   * many allocations were released.
   */
  async releaseStalePreassigned(nowMs: number, graceSeconds: number, batch = 500): Promise<number> {
    const stale = await this.db
      .selectFrom('allocations')
      .innerJoin('nodes', 'nodes.id', 'allocations.node_id')
      .select([
        'allocations.id as id',
        'allocations.node_id as node_id',
        'allocations.feed_ids as feed_ids',
        'nodes.name as name',
        'nodes.feed_quota as feed_quota',
      ])
      .where('allocations.status', '=', 'pending')
      .where('allocations.node_id', 'is not', null)
      .where('allocations.claimable_at', '<', nowMs - graceSeconds * 1000)
      .orderBy('allocations.claimable_at')
      .limit(batch)
      .execute();
    const byNode = new Map<string, { name: string; ids: string[] }>();
    for (const row of stale) {
      const quota = parseJson<Record<string, number>>(row.feed_quota, {});
      if (parseJson<string[]>(row.feed_ids, []).some((feedId) => (quota[feedId] ?? 0) > 0)) continue;
      const entry = byNode.get(row.node_id as string) ?? { name: row.name, ids: [] };
      entry.ids.push(row.id);
      byNode.set(row.node_id as string, entry);
    }
    let released = 0;
    for (const [nodeId, { name, ids }] of byNode) {
      const reason = `released from ${name}, which had not claimed it within ${graceSeconds} s`;
      released += await this.db
        .transaction()
        .execute((trx) => releasePending(trx, this.caps, this.settings, nodeId, reason, nowMs, ids));
    }
    return released;
  }

  /**
   * Splits unassigned pending allocations that no active node could ever take (more feeds than the largest
   * max_capacity, e.g. after capacities were lowered) into allocations that fit. The original is cancelled with
   * a note naming its parts; the parts keep its attempt and run. Returns how many were split.
   */
  async splitOversizedPool(nowMs: number): Promise<number> {
    const largest = await this.db
      .selectFrom('nodes')
      .select((eb) => eb.fn.max('max_capacity').as('n'))
      .where('node_type', '=', NodeType.child)
      .where('is_active', '=', StoredFlag.on)
      .executeTakeFirst();
    const fit = largest?.n === null || largest?.n === undefined ? 0 : Number(largest.n);
    if (fit < 1) return 0;
    const oversized = await this.db
      .selectFrom('allocations')
      .select('id')
      .where('status', '=', 'pending')
      .where('node_id', 'is', null)
      .where('feed_count', '>', fit)
      .limit(100)
      .execute();
    let split = 0;
    for (const { id } of oversized) {
      split += await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('allocations')
          .selectAll()
          .where('id', '=', id)
          .$if(this.caps.rowLocks, (q) => q.forUpdate())
          .executeTakeFirst();
        if (!row || row.status !== 'pending' || row.node_id !== null || Number(row.feed_count) <= fit) return 0;
        const feedIds = parseJson<string[]>(row.feed_ids, []);
        const parts: AllocationTable[] = [];
        for (let i = 0; i < feedIds.length; i += fit) {
          const feeds = feedIds.slice(i, i + fit);
          parts.push({
            ...row,
            id: randomUUID(),
            feed_ids: JSON.stringify(feeds),
            feed_count: feeds.length,
            placement: `unassigned: split from ${row.id}, which no node could hold; the first node with room claims it`,
            created_at: nowMs,
            updated_at: nowMs,
          });
        }
        const note = `split into ${parts.map((p) => p.id).join(', ')}: no active node can hold ${feedIds.length} feeds`;
        if (
          !(await transition(trx, row, 'split', {
            nowMs,
            settings: this.settings,
            values: { error_message: note.slice(0, 4000) },
          }))
        )
          return 0;
        await trx.insertInto('allocations').values(parts).execute();
        for (const part of parts) {
          const feeds = parseJson<string[]>(part.feed_ids, []);
          await trx
            .insertInto('allocation_feeds')
            .values(feeds.map((feedId) => ({ allocation_id: part.id, feed_id: feedId })))
            .execute();
          await trx
            .updateTable('live_feeds')
            .set({ allocation_id: part.id })
            .where('feed_id', 'in', feeds)
            .where('allocation_id', '=', row.id)
            .execute();
        }
        return 1;
      });
    }
    return split;
  }

  /** Deletes a node; in the same transaction its pending work is released and its held work requeued. */
  async deleteNode(nodeId: string, nowMs: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Allocation rows before the node row: the order complete, fail and release lock in. A claim locks the node
      // first but never waits for an allocation row (SKIP LOCKED), so it cannot close a cycle with this.
      await trx
        .selectFrom('allocations')
        .select('id')
        .where('node_id', '=', nodeId)
        .where('status', 'in', [...LIVE_STATUSES])
        .$if(this.caps.rowLocks, (q) => q.forUpdate())
        .execute();
      const node = await trx
        .selectFrom('nodes')
        .select(['id', 'name', 'node_type'])
        .where('id', '=', nodeId)
        .$if(this.caps.rowLocks, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!node) throw new CascadeError('NOT_FOUND', `Node '${nodeId}' does not exist.`);
      // The API and the CLI both delete through here, so neither can remove the record the parent stands for.
      if (Number(node.node_type) === NodeType.parent) {
        const parents = await trx
          .selectFrom('nodes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('node_type', '=', NodeType.parent)
          .executeTakeFirstOrThrow();
        if (Number(parents.n) <= 1)
          throw new CascadeError(
            'CONFLICT',
            `Node '${node.name}' is the only parent node record; it cannot be deleted.`,
          );
      }
      await releasePending(
        trx,
        this.caps,
        this.settings,
        nodeId,
        `released from ${node.name}, which was deleted`,
        nowMs,
      );
      const held = await trx
        .selectFrom('allocations')
        .selectAll()
        .where('node_id', '=', nodeId)
        .where('status', 'in', [...HELD_STATUSES])
        .execute();
      for (const row of held) {
        const values = {
          ...requeueValues(
            row,
            nowMs,
            this.settings,
            `node ${node.name} was deleted`,
            `requeued because ${node.name} was deleted`,
          ),
          available_at: 0,
          claimable_at: nowMs,
          max_attempts: Math.max(Number(row.max_attempts), Number(row.attempt) + 1),
        };
        if (!(await transition(trx, row, 'evict', { nowMs, settings: this.settings, values })))
          throw new CascadeError('CONFLICT', 'The node’s work changed during deletion; try again.');
      }
      await trx.deleteFrom('nodes').where('id', '=', nodeId).execute();
    });
  }

  /** Heartbeats extend every lease the node holds. Returns how many. */
  async extendLeases(nodeId: string, nowMs: number): Promise<number> {
    const result = await this.db
      .updateTable('allocations')
      .set({ lease_expires_at: leaseUntil(nowMs, this.settings) })
      .where('node_id', '=', nodeId)
      .where('status', 'in', [...HELD_STATUSES])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Extends one allocation's lease (task-status calls). */
  async extendLease(id: string, nodeId: string, nowMs: number): Promise<void> {
    await this.db
      .updateTable('allocations')
      .set({ lease_expires_at: leaseUntil(nowMs, this.settings) })
      .where('id', '=', id)
      .where('node_id', '=', nodeId)
      .where('status', 'in', [...HELD_STATUSES])
      .execute();
  }

  /** Whether unassigned pending work is claimable now. */
  async hasPoolWork(nowMs: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('allocations')
      .select('id')
      .where('status', '=', 'pending')
      .where('node_id', 'is', null)
      .where('available_at', '<=', nowMs)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether pending work became claimable in (sinceMs, nowMs] because its retry backoff ended. */
  async backoffEnded(sinceMs: number, nowMs: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('allocations')
      .select('id')
      .where('status', '=', 'pending')
      .where('available_at', '>', sinceMs)
      .where('available_at', '<=', nowMs)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

export type Expired = { requeued: number; timedOut: number };

/**
 * Why a holder lost an allocation: the attempt history's outcome, the error message when it is requeued or when it
 * was the last attempt, and the placement note of the requeued row.
 */
type ExpiryCause = {
  outcome: (typeof EXPIRY_OUTCOMES)[number];
  error: (row: AllocationTable) => string;
  final: (row: AllocationTable) => string;
  placement: (row: AllocationTable) => string;
};

const EXPIRY_CAUSES = Object.freeze({
  lease: {
    outcome: AttemptOutcome.leaseExpired,
    error: (row) => `lease expired on attempt ${row.attempt}`,
    final: (row) => `lease expired on attempt ${row.attempt} of ${row.max_attempts}`,
    placement: (row) => `requeued after the lease of attempt ${row.attempt} expired`,
  },
  claimTimeout: {
    outcome: AttemptOutcome.claimTimeout,
    error: (row) =>
      `attempt ${row.attempt} was claimed but never started (the claim answer may not have reached the node)`,
    final: (row) => `attempt ${row.attempt} of ${row.max_attempts} was claimed but never started`,
    placement: (row) => `requeued after attempt ${row.attempt} was claimed but never started`,
  },
  notHeld: {
    outcome: AttemptOutcome.notHeld,
    error: (row) => `the node's heartbeat did not list attempt ${row.attempt} among the allocations it holds`,
    final: (row) =>
      `the node's heartbeat did not list attempt ${row.attempt} of ${row.max_attempts} among the allocations it holds`,
    placement: (row) => `requeued after the node stopped listing attempt ${row.attempt} as held`,
  },
  stalled: {
    outcome: AttemptOutcome.stalled,
    error: (row) =>
      `attempt ${row.attempt} stalled: no progress reported since ${new Date(Number(row.progress_at)).toISOString()} while its node kept beating`,
    final: (row) =>
      `attempt ${row.attempt} of ${row.max_attempts} stalled: no progress reported since ${new Date(Number(row.progress_at)).toISOString()}`,
    placement: (row) => `requeued after attempt ${row.attempt} stalled (no progress while its node kept beating)`,
  },
} satisfies Record<string, ExpiryCause>);

/**
 * The `release` move for a node's pending work (only `onlyIds` of it when given): back to the pool, its feeds off
 * the node's load. Rows another transaction moved meanwhile are not in the locked read, so they are left alone.
 */
async function releasePending(
  trx: Trx,
  caps: Capabilities,
  settings: LeaseSettings,
  nodeId: string,
  reason: string,
  nowMs: number,
  onlyIds?: readonly string[],
): Promise<number> {
  if (onlyIds?.length === 0) return 0;
  const rows = await trx
    .selectFrom('allocations')
    .selectAll()
    .where('node_id', '=', nodeId)
    .where('status', '=', 'pending')
    .$if(onlyIds !== undefined, (q) => q.where('id', 'in', onlyIds as string[]))
    .$if(caps.rowLocks, (q) => q.forUpdate())
    .execute();
  if (rows.length === 0) return 0;
  const placement = `unassigned: ${reason}; the first node with room claims it`.slice(0, 1000);
  const moved = await transitionAll(trx, rows, 'release', { nowMs, settings, values: { placement } });
  if (!moved) throw new CascadeError('CONFLICT', 'Pending work changed while being released; the sweeper retries.');
  return rows.length;
}
