import type { Kysely } from 'kysely';
import { NO_POLITENESS, type PolitenessRules } from '../../domain/host-politeness.js';
import { DEFAULT_SUSPECT_AFTER_BEATS } from '../../domain/node-liveness.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { Database } from '../tables.js';
import type { WakeChannel } from '../wake/wake-channel.js';
import { claimAllocations, type ClaimResult } from './claim.js';
import { insertDispatch, type DispatchOutcome, type DispatchRequest } from './insert.js';
import { AllocationMoves, type FeedResult, type NodeActor } from './moves.js';
import { flagStalled, recordProgress, type AllocationProgress } from './progress.js';
import { AllocationRecovery, type Expired } from './recovery.js';
import type { LeaseSettings } from './shared.js';
import { AllocationViews, toAllocationRecord, type AllocationRecord, type TaskPackage } from './views.js';

/** A completion's answer: the allocation as it stands, and false for a repeated report, which changes nothing. */
export type CompletionRecord = { allocation: AllocationRecord; moved: boolean };

/**
 * The only writer of allocation `status`. Each move commits as a unit (one transaction, or on PostgreSQL one
 * statement; a claim there may commit its own work before it looks for unassigned work). Methods that make work
 * claimable publish on the wake channel after they commit, so that long-poll claims return at once.
 */
export class AllocationsStore {
  readonly views: AllocationViews;
  readonly #moves: AllocationMoves;
  readonly #recovery: AllocationRecovery;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
    private readonly settings: LeaseSettings,
    private readonly wake: WakeChannel,
    /** Per-host limits the claim applies (docs/politeness.md); none unless the store was opened with them. */
    readonly politeness: PolitenessRules = NO_POLITENESS,
  ) {
    this.views = new AllocationViews(db);
    this.#moves = new AllocationMoves(db, settings, caps);
    this.#recovery = new AllocationRecovery(db, caps, settings);
  }

  async dispatch(request: DispatchRequest): Promise<DispatchOutcome> {
    const outcome = await insertDispatch(this.db, this.caps, this.settings, request);
    if (outcome.allocationsCreated > 0) await this.wake.publish();
    return outcome;
  }

  async claim(nodeId: string, max: number, nowMs = Date.now()): Promise<AllocationRecord[]> {
    return (await this.#claim(nodeId, max, nowMs)).rows.map(toAllocationRecord);
  }

  /** A claim answered as the child gets it: the rows and their task packages (docs/protocol.md §3.2), in claim order. */
  async claimPackages(
    nodeId: string,
    max: number,
    nowMs = Date.now(),
  ): Promise<{ allocations: AllocationRecord[]; packages: TaskPackage[]; hostsReadyAt?: number | undefined }> {
    const {
      rows,
      packages: built = new Map<string, TaskPackage>(),
      hostsReadyAt,
    } = await this.#claim(nodeId, max, nowMs);
    const allocations = rows.map(toAllocationRecord);
    const unbuilt = allocations.filter((allocation) => !built.has(allocation.id));
    const read = new Map((await this.views.packages(unbuilt)).map((pkg) => [pkg.allocation_id, pkg]));
    return {
      allocations,
      packages: allocations.map((allocation) => built.get(allocation.id) ?? (read.get(allocation.id) as TaskPackage)),
      hostsReadyAt,
    };
  }

  async #claim(nodeId: string, max: number, nowMs: number): Promise<ClaimResult> {
    const result = await claimAllocations(
      { db: this.db, caps: this.caps, settings: this.settings, politeness: this.politeness },
      nodeId,
      max,
      nowMs,
    );
    if (result.lockedUntaken) await this.wake.publish();
    return result;
  }

  /** `node`: the node's id, or the node and the attempt its report is about (reports of lost attempts get LEASE_LOST). */
  async start(id: string, node: string | NodeActor, nowMs = Date.now()): Promise<AllocationRecord> {
    return toAllocationRecord(await this.#moves.start(id, actorOf(node), nowMs));
  }

  /** `moved` is false for a repeated report, which changes nothing. */
  async complete(
    id: string,
    node: string | NodeActor,
    results: readonly FeedResult[],
    articleCount: number,
    nowMs = Date.now(),
  ): Promise<CompletionRecord> {
    const completion = await this.#moves.complete(id, actorOf(node), results, articleCount, nowMs);
    // The freed capacity may let a waiting node take pooled work; freed host slots, work waiting for its hosts.
    if (completion.moved)
      await (completion.row.held_hosts ? this.wake.publish() : this.#wakeIfPoolWork(nowMs, completion.poolWork));
    return { allocation: toAllocationRecord(completion.row), moved: completion.moved };
  }

  /** `retryable: false` (the child knows retrying cannot help: 404, not a feed) fails for good on any attempt. */
  async fail(
    id: string,
    node: string | NodeActor,
    errorMessage: string,
    nowMs = Date.now(),
    retryable = true,
  ): Promise<AllocationRecord> {
    const row = await this.#moves.fail(id, actorOf(node), errorMessage, nowMs, retryable);
    if (row.status === 'pending' || row.held_hosts) await this.wake.publish();
    else await this.#wakeIfPoolWork(nowMs);
    return toAllocationRecord(row);
  }

  /** `known`: the answer the move already found (PostgreSQL's completion statement asks itself). */
  async #wakeIfPoolWork(nowMs: number, known?: boolean): Promise<void> {
    if (known ?? (await this.#recovery.hasPoolWork(nowMs))) await this.wake.publish();
  }

  async cancel(id: string, nowMs = Date.now()): Promise<AllocationRecord> {
    const row = await this.#recovery.cancel(id, nowMs);
    await this.wake.publish(); // the holder's freed capacity may let it claim pooled work
    return toAllocationRecord(row);
  }

  async retry(id: string, nowMs = Date.now()): Promise<AllocationRecord> {
    const row = await this.#recovery.retry(id, nowMs);
    await this.wake.publish();
    return toAllocationRecord(row);
  }

  async expireLeases(nowMs = Date.now()): Promise<Expired> {
    const moved = await this.#recovery.expireLeases(nowMs);
    if (moved.requeued + moved.timedOut > 0) await this.wake.publish();
    return moved;
  }

  async expireUnstartedClaims(claimTimeoutSeconds: number, nowMs = Date.now()): Promise<Expired> {
    const moved = await this.#recovery.expireUnstartedClaims(nowMs, claimTimeoutSeconds);
    if (moved.requeued > 0) await this.wake.publish();
    return moved;
  }

  /** Progress a node reports with its heartbeat (progress.ts); returns how many allocations' clocks moved. */
  recordProgress(nodeId: string, progress: readonly AllocationProgress[], nowMs = Date.now()): Promise<number> {
    return recordProgress(this.db, nodeId, progress, nowMs);
  }

  /**
   * The stall sweep (dispatch.stall_seconds > 0): flags executing work without progress for one period while its
   * node beats, and requeues (or times out) flagged work still without progress after a second period.
   */
  async sweepStalled(stallSeconds: number, nowMs = Date.now()): Promise<{ flagged: number } & Expired> {
    const flagged = await flagStalled(this.db, stallSeconds, nowMs);
    const moved = await this.#recovery.expireStalled(nowMs, stallSeconds);
    if (moved.requeued > 0) await this.wake.publish();
    return { flagged, ...moved };
  }

  /** A heartbeat naming what the child holds: renews those leases, requeues the unlisted (see AllocationRecovery). */
  async reconcileHeld(
    nodeId: string,
    heldIds: readonly string[],
    graceSeconds: number,
    nowMs = Date.now(),
  ): Promise<{ extended: number } & Expired> {
    const result = await this.#recovery.reconcileHeld(nodeId, heldIds, nowMs, graceSeconds);
    if (result.requeued > 0) await this.wake.publish();
    return result;
  }

  async releaseOfflineNodes(
    offlineAfterSeconds: number,
    nowMs = Date.now(),
    suspectAfterBeats = DEFAULT_SUSPECT_AFTER_BEATS,
  ): Promise<number> {
    const released = await this.#recovery.releaseOfflineNodes(nowMs, offlineAfterSeconds, suspectAfterBeats);
    if (released > 0) await this.wake.publish();
    return released;
  }

  async releaseStalePreassigned(graceSeconds: number, nowMs = Date.now()): Promise<number> {
    const released = await this.#recovery.releaseStalePreassigned(nowMs, graceSeconds);
    if (released > 0) await this.wake.publish();
    return released;
  }

  async splitOversizedPool(nowMs = Date.now()): Promise<number> {
    const split = await this.#recovery.splitOversizedPool(nowMs);
    if (split > 0) await this.wake.publish();
    return split;
  }

  async deleteNode(nodeId: string, nowMs = Date.now()): Promise<void> {
    await this.#recovery.deleteNode(nodeId, nowMs);
    await this.wake.publish();
  }

  extendLeases(nodeId: string, nowMs = Date.now()): Promise<number> {
    return this.#recovery.extendLeases(nodeId, nowMs);
  }

  extendLease(id: string, nodeId: string, nowMs = Date.now()): Promise<void> {
    return this.#recovery.extendLease(id, nodeId, nowMs);
  }

  backoffEnded(sinceMs: number, nowMs = Date.now()): Promise<boolean> {
    return this.#recovery.backoffEnded(sinceMs, nowMs);
  }
}

function actorOf(node: string | NodeActor): NodeActor {
  return typeof node === 'string' ? { nodeId: node } : node;
}

export type { NodeActor };
export type { AllocationProgress, DispatchOutcome, DispatchRequest, Expired, FeedResult, LeaseSettings };
