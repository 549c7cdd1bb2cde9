import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DEFAULT_SUSPECT_AFTER_BEATS, NodeType, onlineSince } from '../../domain/node-liveness.js';
import { nodeIsSuspect } from '../node-liveness-sql.js';
import { planPlacement, type PlacementGroup, type PlacementNode } from '../../domain/placement.js';
import type { Capabilities } from '../dialects/capabilities.js';
import { StoredFlag } from '../stored-flag.js';
import type { AllocationTable, Database } from '../tables.js';
import { chunk, parseJson } from '../time.js';
import { adjustNodeLoad, rowsPerInsert, type LeaseSettings, type Trx } from './shared.js';
import { insertOrIgnore } from '../dialects/upsert.js';

export type DispatchRequest = {
  taskId: string;
  taskName: string;
  /** Enabled, known, de-duplicated feed ids of the task. */
  feedIds: readonly string[];
  scheduleRunId: string;
  nowMs: number;
  feedsPerAllocation: number;
  offlineAfterSeconds: number;
  /** Nodes that missed this many of their own beats get nothing new (default DEFAULT_SUSPECT_AFTER_BEATS). */
  suspectAfterBeats?: number | undefined;
  /** Set for cron ticks: the dispatch happens only if this (task, time) row can be inserted first. */
  tick?: { scheduledAtMs: number } | undefined;
};

export type DispatchOutcome = {
  allocationsCreated: number;
  feedsAssigned: number;
  feedsUnassigned: number;
  feedsSkippedInFlight: number;
  tickAlreadyFired: boolean;
  /** Allocations pre-assigned to a node by this dispatch (the parent notifies those nodes). */
  placed: Array<{ allocationId: string; nodeId: string; feedCount: number }>;
};

/** One task's dispatch in one transaction: skip live feeds, place the rest, insert allocations. */
export async function insertDispatch(
  db: Kysely<Database>,
  caps: Capabilities,
  settings: LeaseSettings,
  request: DispatchRequest,
): Promise<DispatchOutcome> {
  return db.transaction().execute(async (trx) => {
    const none = { allocationsCreated: 0, feedsAssigned: 0, feedsUnassigned: 0, feedsSkippedInFlight: 0, placed: [] };
    if (request.tick && !(await claimTick(trx, caps, request))) return { ...none, tickAlreadyFired: true };

    const live = new Set<string>();
    for (const ids of chunk(request.feedIds, 1000)) {
      const rows = await trx.selectFrom('live_feeds').select('feed_id').where('feed_id', 'in', ids).execute();
      for (const row of rows) live.add(row.feed_id);
    }
    const todo = request.feedIds.filter((id) => !live.has(id));
    if (todo.length === 0) return { ...none, feedsSkippedInFlight: live.size, tickAlreadyFired: false };

    const nodes = await onlineNodes(
      trx,
      request.nowMs,
      request.offlineAfterSeconds,
      request.suspectAfterBeats ?? DEFAULT_SUSPECT_AFTER_BEATS,
    );
    const plan = planPlacement(
      nodes,
      todo,
      request.feedsPerAllocation,
      await smallestActiveCapacity(trx),
      await lastFetchedBy(trx, todo),
    );
    const groups = await reserveCapacity(trx, plan.groups, nodes, request.nowMs);

    const rows = groups.map((group) => allocationRow(group, request, settings));
    for (const part of chunk(rows, rowsPerInsert(caps, 27))) await trx.insertInto('allocations').values(part).execute();
    // In feed order, so that overlapping dispatches of tasks sharing feeds take the live_feeds keys in one order.
    const feedRows = rows
      .flatMap((row) =>
        (JSON.parse(row.feed_ids) as string[]).map((feedId) => ({ allocation_id: row.id, feed_id: feedId })),
      )
      .sort((a, b) => (a.feed_id < b.feed_id ? -1 : a.feed_id > b.feed_id ? 1 : 0));
    for (const part of chunk(feedRows, rowsPerInsert(caps, 2))) {
      await trx.insertInto('allocation_feeds').values(part).execute();
      await trx.insertInto('live_feeds').values(part).execute();
    }
    const assigned = groups.filter((g) => g.nodeId !== null).reduce((n, g) => n + g.feedIds.length, 0);
    return {
      allocationsCreated: rows.length,
      feedsAssigned: assigned,
      feedsUnassigned: todo.length - assigned,
      feedsSkippedInFlight: live.size,
      tickAlreadyFired: false,
      placed: rows.flatMap((row) =>
        row.node_id === null ? [] : [{ allocationId: row.id, nodeId: row.node_id, feedCount: row.feed_count }],
      ),
    };
  });
}

async function claimTick(trx: Trx, caps: Capabilities, request: DispatchRequest): Promise<boolean> {
  const values = {
    task_id: request.taskId,
    scheduled_at: request.tick?.scheduledAtMs ?? 0,
    schedule_run_id: request.scheduleRunId,
    fired_at: request.nowMs,
  };
  const insert = trx.insertInto('schedule_ticks').values(values);
  const result = await insertOrIgnore(caps, insert, ['task_id', 'scheduled_at']).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/**
 * The smallest max_capacity of any active child node (online or not), so pool allocations fit every node;
 * 1 when there is no node yet, since nothing is known about the capacities to come.
 */
async function smallestActiveCapacity(trx: Trx): Promise<number> {
  const row = await trx
    .selectFrom('nodes')
    .select((eb) => eb.fn.min('max_capacity').as('smallest'))
    .where('node_type', '=', NodeType.child)
    .where('is_active', '=', StoredFlag.on)
    .executeTakeFirst();
  return row?.smallest === null || row?.smallest === undefined ? 1 : Number(row.smallest);
}

/** Each feed's last fetching node (feeds.last_node_id), for the warm placement rule; feeds never fetched are absent. */
async function lastFetchedBy(trx: Trx, feedIds: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const ids of chunk(feedIds, 1000)) {
    const rows = await trx
      .selectFrom('feeds')
      .select(['id', 'last_node_id'])
      .where('id', 'in', ids)
      .where('last_node_id', 'is not', null)
      .execute();
    for (const row of rows) if (row.last_node_id !== null) out[row.id] = row.last_node_id;
  }
  return out;
}

/** Online nodes that are not suspect: the only ones new work is placed on. */
async function onlineNodes(
  trx: Trx,
  nowMs: number,
  offlineAfterSeconds: number,
  suspectAfterBeats: number,
): Promise<PlacementNode[]> {
  const rows = await trx
    .selectFrom('nodes')
    .select(['id', 'name', 'max_capacity', 'load_feeds', 'feed_quota'])
    .where('node_type', '=', NodeType.child)
    .where('is_active', '=', StoredFlag.on)
    .where('last_heartbeat_at', '>=', onlineSince(nowMs, offlineAfterSeconds))
    .where((eb) => eb.not(nodeIsSuspect(nowMs, suspectAfterBeats)))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    maxCapacity: Number(r.max_capacity),
    load: Number(r.load_feeds),
    feedQuota: parseJson<Record<string, number>>(r.feed_quota, {}),
  }));
}

/**
 * Adds each node's planned feeds to its load with a guarded UPDATE. A node that filled up since it was read
 * (a concurrent claim) keeps nothing: its groups go to the unassigned pool instead.
 */
async function reserveCapacity(
  trx: Trx,
  groups: PlacementGroup[],
  nodes: PlacementNode[],
  nowMs: number,
): Promise<PlacementGroup[]> {
  const perNode = new Map<string, number>();
  for (const g of groups) if (g.nodeId) perNode.set(g.nodeId, (perNode.get(g.nodeId) ?? 0) + g.feedIds.length);
  const refused = new Set<string>();
  // Lock node rows in one global order so that concurrent dispatches cannot deadlock on them.
  for (const [nodeId, feeds] of [...perNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!(await adjustNodeLoad(trx, nodeId, feeds, nowMs))) refused.add(nodeId);
  }
  if (refused.size === 0) return groups;
  return groups.map((g) => {
    if (!g.nodeId || !refused.has(g.nodeId)) return g;
    const name = nodes.find((n) => n.id === g.nodeId)?.name ?? g.nodeId;
    return {
      nodeId: null,
      feedIds: g.feedIds,
      reason: `unassigned: ${name} filled up while this dispatch ran; the first node with room claims it`,
    };
  });
}

function allocationRow(group: PlacementGroup, request: DispatchRequest, settings: LeaseSettings): AllocationTable {
  return {
    id: randomUUID(),
    task_id: request.taskId,
    task_name: request.taskName,
    node_id: group.nodeId,
    feed_ids: JSON.stringify(group.feedIds),
    feed_count: group.feedIds.length,
    status: 'pending',
    attempt: 1,
    max_attempts: settings.maxAttempts,
    // Fresh work is claimable at once, whatever the claimer's clock says; only retry backoffs set a future time.
    available_at: 0,
    // The claim order: work waits in line from the moment it became claimable (docs/protocol.md §5).
    claimable_at: request.nowMs,
    lease_expires_at: null,
    placement: group.reason.slice(0, 1000),
    result_summary: null,
    error_message: null,
    dispatched_at: request.nowMs,
    claimed_at: null,
    started_at: null,
    completed_at: null,
    schedule_run_id: request.scheduleRunId,
    article_count: 0,
    new_article_count: 0,
    progress_at: null,
    progress_feeds_done: 0,
    progress_bytes_read: 0,
    stalled_at: null,
    created_at: request.nowMs,
    updated_at: request.nowMs,
  };
}
