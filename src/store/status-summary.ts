import { ALL_STATUSES, type AllocationStatus } from '../domain/allocation-states.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { NodeStatus, NodeType } from '../domain/node-liveness.js';
import type { NodeView } from './nodes.js';
import type { Store } from './store.js';
import { iso } from './time.js';
import { databaseOf } from './store.js';

export type StatusNode = Pick<
  NodeView,
  'id' | 'name' | 'status' | 'liveness' | 'is_active' | 'current_tasks' | 'last_heartbeat_at' | 'version'
> & {
  max_capacity: number;
};
export type StatusFailure = {
  allocation_id: string;
  task_id: string;
  task_name: string;
  node_id: string | null;
  node_name: string | null;
  status: string;
  error_message: string | null;
  at: string | null;
};
export type StatusStaleFeed = {
  id: string;
  mp_name: string;
  status: number;
  update_time: number | null;
  last_success_at: string | null;
};

/** `GET /cascade/status`: the one-screen overview behind `cascade status`. */
export type StatusSummary = {
  generated_at: string;
  nodes: {
    total: number;
    online: number;
    offline: number;
    disabled: number;
    load: number;
    capacity: number;
    list: StatusNode[];
  };
  allocations: { total: number; by_status: Record<AllocationStatus, number> };
  failures: { since: string; total: number; list: StatusFailure[] };
  stale_feeds: { stale_after_hours: number; total: number; list: StatusStaleFeed[] };
};

export type StatusOptions = { nowMs: number; failuresSinceMs: number; staleAfterHours: number; listLimit: number };

const FAILED: readonly AllocationStatus[] = ['failed', 'timeout'];

/**
 * Child nodes with their load, allocations counted by status, allocations that failed or timed out since
 * `failuresSinceMs` with their reasons (newest first), and enabled feeds without a successful update for longer than
 * `staleAfterHours` (never-updated first). Lists are capped at `listLimit`; the totals count everything.
 */
export async function statusSummary(store: Store, options: StatusOptions): Promise<StatusSummary> {
  const nodes = await childNodes(store);
  const counts = await store.allocations.views.countByStatus();
  const byStatus = Object.fromEntries(ALL_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<AllocationStatus, number>;
  const staleBeforeS = Math.floor(options.nowMs / 1000) - options.staleAfterHours * 3600;
  return {
    generated_at: new Date(options.nowMs).toISOString(),
    nodes: {
      total: nodes.length,
      online: nodes.filter((n) => n.status === NodeStatus.online).length,
      offline: nodes.filter((n) => n.status === NodeStatus.offline).length,
      disabled: nodes.filter((n) => n.status === NodeStatus.disabled).length,
      load: nodes.filter((n) => n.status === NodeStatus.online).reduce((sum, n) => sum + n.current_tasks, 0),
      capacity: nodes.filter((n) => n.status === NodeStatus.online).reduce((sum, n) => sum + n.max_capacity, 0),
      list: nodes,
    },
    allocations: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus },
    failures: {
      since: new Date(options.failuresSinceMs).toISOString(),
      ...(await failuresSince(store, options.failuresSinceMs, options.listLimit)),
    },
    stale_feeds: {
      stale_after_hours: options.staleAfterHours,
      ...(await staleFeeds(store, staleBeforeS, options.listLimit)),
    },
  };
}

async function childNodes(store: Store): Promise<StatusNode[]> {
  const nodes: StatusNode[] = [];
  for (;;) {
    const { list, total } = await store.nodes.list({ node_type: NodeType.child }, 200, nodes.length);
    nodes.push(
      ...list.map((n) => ({
        id: n.id,
        name: n.name,
        status: n.status,
        liveness: n.liveness,
        is_active: n.is_active,
        current_tasks: n.current_tasks,
        max_capacity: n.sync_config.max_capacity,
        last_heartbeat_at: n.last_heartbeat_at,
        version: n.version,
      })),
    );
    if (list.length === 0 || nodes.length >= total) return nodes;
  }
}

async function failuresSince(
  store: Store,
  sinceMs: number,
  limit: number,
): Promise<{ total: number; list: StatusFailure[] }> {
  const recent = databaseOf(store)
    .selectFrom('allocations as a')
    .where('a.status', 'in', [...FAILED])
    .where((eb) => eb(eb.fn.coalesce('a.completed_at', 'a.updated_at'), '>=', sinceMs));
  const total = Number((await recent.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await recent
    .leftJoin('nodes as n', 'n.id', 'a.node_id')
    .select([
      'a.id',
      'a.task_id',
      'a.task_name',
      'a.node_id',
      'n.name as node_name',
      'a.status',
      'a.error_message',
      'a.completed_at',
      'a.updated_at',
    ])
    .orderBy('a.updated_at', 'desc')
    .orderBy('a.id')
    .limit(limit)
    .execute();
  return {
    total,
    list: rows.map((r) => ({
      allocation_id: r.id,
      task_id: r.task_id,
      task_name: r.task_name,
      node_id: r.node_id,
      node_name: r.node_name,
      status: r.status,
      error_message: r.error_message,
      at: iso(r.completed_at ?? r.updated_at),
    })),
  };
}

async function staleFeeds(
  store: Store,
  beforeUnixS: number,
  limit: number,
): Promise<{ total: number; list: StatusStaleFeed[] }> {
  const stale = databaseOf(store)
    .selectFrom('feeds')
    .where('status', '=', EnabledStatus.enabled)
    .where((eb) => eb.or([eb('update_time', 'is', null), eb('update_time', '<', beforeUnixS)]));
  const total = Number((await stale.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await stale
    .select(['id', 'mp_name', 'status', 'update_time'])
    .orderBy((eb) => eb.case().when('update_time', 'is', null).then(0).else(1).end())
    .orderBy('update_time')
    .orderBy('id')
    .limit(limit)
    .execute();
  return {
    total,
    list: rows.map((r) => {
      const updateTime = r.update_time === null ? null : Number(r.update_time);
      return {
        id: r.id,
        mp_name: r.mp_name,
        status: Number(r.status),
        update_time: updateTime,
        last_success_at: updateTime === null ? null : new Date(updateTime * 1000).toISOString(),
      };
    }),
  };
}
