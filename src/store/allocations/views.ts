import type { Kysely } from 'kysely';
import type { Database, AllocationTable, MessageTaskTable } from '../tables.js';
import { chunk, iso, numberOrNull, parseJson } from '../time.js';
import { ALL_STATUSES, HELD_STATUSES, type AllocationStatus } from '../../domain/allocation-states.js';
import type { PackageFeed, TaskPackage } from '../../protocol/parent-messages.js';
import { EnabledStatus } from '../../domain/enabled-status.js';
import { MessageType } from '../../domain/message-type.js';

/** An allocation as the store hands it out: `status` as the union of states, JSON parsed, times in epoch ms. */
export type AllocationRecord = {
  id: string;
  taskId: string;
  taskName: string;
  /** The holder; null for unassigned (pool) work. */
  nodeId: string | null;
  feedIds: string[];
  feedCount: number;
  status: AllocationStatus;
  attempt: number;
  maxAttempts: number;
  /** A pending allocation is claimable from this moment (retry backoff). */
  availableAtMs: number;
  /** When the pending allocation became claimable: the claim order. */
  claimableAtMs: number;
  leaseExpiresAtMs: number | null;
  placement: string;
  resultSummary: unknown;
  errorMessage: string | null;
  dispatchedAtMs: number;
  claimedAtMs: number | null;
  startedAtMs: number | null;
  completedAtMs: number | null;
  scheduleRunId: string;
  articleCount: number;
  newArticleCount: number;
  /** When the attempt's reported progress last moved (null: none reported for this attempt). */
  progressAtMs: number | null;
  progressFeedsDone: number;
  progressBytesRead: number;
  stalledAtMs: number | null;
  /** What the last claim counted per host, given back when held work ends or is requeued. */
  heldHosts: Record<string, number>;
  createdAtMs: number;
  updatedAtMs: number;
};

/** The only place an allocations row is read for code above the store. */
export function toAllocationRecord(row: AllocationTable): AllocationRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    taskName: row.task_name,
    nodeId: row.node_id,
    feedIds: parseJson<string[]>(row.feed_ids, []),
    feedCount: Number(row.feed_count),
    status: row.status as AllocationStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    availableAtMs: Number(row.available_at),
    claimableAtMs: Number(row.claimable_at),
    leaseExpiresAtMs: numberOrNull(row.lease_expires_at),
    placement: row.placement,
    resultSummary: parseJson<unknown>(row.result_summary, null),
    errorMessage: row.error_message,
    dispatchedAtMs: Number(row.dispatched_at),
    claimedAtMs: numberOrNull(row.claimed_at),
    startedAtMs: numberOrNull(row.started_at),
    completedAtMs: numberOrNull(row.completed_at),
    scheduleRunId: row.schedule_run_id,
    articleCount: Number(row.article_count),
    newArticleCount: Number(row.new_article_count),
    progressAtMs: numberOrNull(row.progress_at),
    progressFeedsDone: Number(row.progress_feeds_done),
    progressBytesRead: Number(row.progress_bytes_read),
    stalledAtMs: numberOrNull(row.stalled_at),
    heldHosts: parseJson<Record<string, number>>(row.held_hosts, {}),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

export type AllocationView = {
  id: string;
  task_id: string;
  task_name: string;
  node_id: string | null;
  node_name: string | null;
  feed_ids: string[];
  status: string;
  attempt: number;
  max_attempts: number;
  available_at: string | null;
  lease_expires_at: string | null;
  placement: string;
  result_summary: unknown;
  error_message: string | null;
  dispatched_at: string | null;
  claimed_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  schedule_run_id: string;
  article_count: number;
  new_article_count: number;
  /**
   * The attempt's progress as its child last reported it with a heartbeat, and when it last moved; null when the
   * child reports none (the original child), whose allocations are not judged for stalls.
   */
  progress: { feeds_done: number; bytes_read: number; last_progress_at: string | null } | null;
  /** Executing, and no progress for dispatch.stall_seconds while its node kept beating (requeued after as long again). */
  stalled: boolean;
  stalled_at: string | null;
  created_at: string | null;
  updated_at: string | null;
};

export type AttemptView = {
  attempt: number;
  node_id: string;
  node_name: string | null;
  claimed_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  outcome: string | null;
  error_message: string | null;
};

/** The wire shapes a claim answers with (docs/protocol.md §3.2), defined in src/protocol/. */
export type { PackageFeed, TaskPackage };

/** The feed and task columns a package carries (the PostgreSQL claim statement selects the same ones). */
export const PACKAGE_FEED_COLUMNS = [
  'id',
  'faker_id',
  'mp_name',
  'mp_cover',
  'mp_intro',
  'url',
  'status',
  'etag',
  'last_modified',
] as const;
export const PACKAGE_TASK_COLUMNS = [
  'message_type',
  'message_template',
  'web_hook_url',
  'cron_exp',
  'headers',
  'cookies',
] as const;

/** One package from its claimed allocation, its task's fields (undefined: the task is gone) and its feeds by id. */
export function toTaskPackage(
  allocation: AllocationRecord,
  task: PackageTaskFields | undefined,
  feeds: ReadonlyMap<string, PackageFeed>,
): TaskPackage {
  return {
    allocation_id: allocation.id,
    task_id: allocation.taskId,
    task_name: allocation.taskName,
    message_type: Number(task?.message_type ?? MessageType.message),
    message_template: task?.message_template ?? '',
    web_hook_url: task?.web_hook_url ?? '',
    cron_exp: task?.cron_exp ?? '',
    headers: parseJson<Record<string, string>>(task?.headers, {}),
    cookies: task?.cookies ?? '',
    feeds: allocation.feedIds.map(
      (id) =>
        feeds.get(id) ?? {
          id,
          faker_id: '',
          mp_name: '',
          mp_cover: '',
          mp_intro: '',
          url: '',
          status: EnabledStatus.disabled,
          etag: null,
          last_modified: null,
        },
    ),
    dispatched_at: iso(allocation.dispatchedAtMs),
    attempt: allocation.attempt,
    lease_expires_at: iso(allocation.leaseExpiresAtMs),
  };
}

export function toAllocationView(allocation: AllocationRecord, nodeName: string | null): AllocationView {
  const executing = allocation.status === 'executing';
  return {
    id: allocation.id,
    task_id: allocation.taskId,
    task_name: allocation.taskName,
    node_id: allocation.nodeId,
    node_name: nodeName,
    feed_ids: allocation.feedIds,
    status: allocation.status,
    attempt: allocation.attempt,
    max_attempts: allocation.maxAttempts,
    available_at: iso(allocation.availableAtMs),
    lease_expires_at: iso(allocation.leaseExpiresAtMs),
    placement: allocation.placement,
    result_summary: allocation.resultSummary,
    error_message: allocation.errorMessage,
    dispatched_at: iso(allocation.dispatchedAtMs),
    claimed_at: iso(allocation.claimedAtMs),
    started_at: iso(allocation.startedAtMs),
    completed_at: iso(allocation.completedAtMs),
    schedule_run_id: allocation.scheduleRunId,
    article_count: allocation.articleCount,
    new_article_count: allocation.newArticleCount,
    progress:
      allocation.progressAtMs === null
        ? null
        : {
            feeds_done: allocation.progressFeedsDone,
            bytes_read: allocation.progressBytesRead,
            last_progress_at: iso(allocation.progressAtMs),
          },
    stalled: allocation.stalledAtMs !== null && executing,
    stalled_at: executing ? iso(allocation.stalledAtMs) : null,
    created_at: iso(allocation.createdAtMs),
    updated_at: iso(allocation.updatedAtMs),
  };
}

export type PackageTaskFields = Pick<MessageTaskTable, (typeof PACKAGE_TASK_COLUMNS)[number]>;

export type AllocationFilter = {
  task_id?: string | undefined;
  node_id?: string | undefined;
  status?: string | undefined;
  schedule_run_id?: string | undefined;
  feed_id?: string | undefined;
  /** true: only executing allocations flagged stalled; false: only the others. */
  stalled?: boolean | undefined;
};

export class AllocationViews {
  constructor(private readonly db: Kysely<Database>) {}

  async list(
    filter: AllocationFilter,
    limit: number,
    offset: number,
  ): Promise<{ list: AllocationView[]; total: number }> {
    let query = this.db.selectFrom('allocations');
    if (filter.task_id) query = query.where('allocations.task_id', '=', filter.task_id);
    if (filter.node_id) query = query.where('allocations.node_id', '=', filter.node_id);
    if (filter.status) query = query.where('allocations.status', '=', filter.status);
    // Naming every status lets the (status, node_id, …) index find one node's rows; by node_id alone PostgreSQL
    // and MySQL read the whole table (migration 003).
    else if (filter.node_id) query = query.where('allocations.status', 'in', [...ALL_STATUSES]);
    if (filter.schedule_run_id) query = query.where('allocations.schedule_run_id', '=', filter.schedule_run_id);
    if (filter.stalled === true)
      query = query.where('allocations.status', '=', 'executing').where('allocations.stalled_at', 'is not', null);
    if (filter.stalled === false)
      query = query.where((eb) =>
        eb.or([eb('allocations.status', '!=', 'executing'), eb('allocations.stalled_at', 'is', null)]),
      );
    // allocation_feeds is keyed (feed_id, allocation_id) for exactly this question.
    if (filter.feed_id)
      query = query.where('allocations.id', 'in', (eb) =>
        eb
          .selectFrom('allocation_feeds')
          .select('allocation_feeds.allocation_id')
          .where('allocation_feeds.feed_id', '=', filter.feed_id as string),
      );
    const rows = await query
      .leftJoin('nodes', 'nodes.id', 'allocations.node_id')
      .selectAll('allocations')
      .select('nodes.name as node_name')
      .orderBy('allocations.created_at', 'desc')
      .orderBy('allocations.id')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map((r) => toAllocationView(toAllocationRecord(r), r.node_name)), total: Number(total.n) };
  }

  async get(id: string): Promise<AllocationRecord | undefined> {
    const row = await this.db.selectFrom('allocations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAllocationRecord(row);
  }

  /**
   * Whether `nodeId`'s newest attempt at the allocation ended `failed`: a failure report it sends again (its answer
   * was lost, or the original child retried the call) is then already recorded, not a late report.
   */
  async lastAttemptFailedOn(id: string, nodeId: string, attempt: number | undefined): Promise<boolean> {
    const last = await this.db
      .selectFrom('allocation_attempts')
      .select(['node_id', 'outcome', 'attempt'])
      .where('allocation_id', '=', id)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return (
      last !== undefined &&
      last.node_id === nodeId &&
      last.outcome === 'failed' &&
      (attempt === undefined || Number(last.attempt) === attempt)
    );
  }

  /** One allocation with its node name, and (for admins) its attempt history. */
  async view(id: string, withAttempts = true): Promise<(AllocationView & { attempts?: AttemptView[] }) | undefined> {
    const row = await this.db
      .selectFrom('allocations')
      .leftJoin('nodes', 'nodes.id', 'allocations.node_id')
      .selectAll('allocations')
      .select('nodes.name as node_name')
      .where('allocations.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    if (!withAttempts) return toAllocationView(toAllocationRecord(row), row.node_name);
    const attempts = await this.db
      .selectFrom('allocation_attempts')
      .leftJoin('nodes', 'nodes.id', 'allocation_attempts.node_id')
      .selectAll('allocation_attempts')
      .select('nodes.name as node_name')
      .where('allocation_id', '=', id)
      .orderBy('allocation_attempts.id')
      .execute();
    return {
      ...toAllocationView(toAllocationRecord(row), row.node_name),
      attempts: attempts.map((a) => ({
        attempt: Number(a.attempt),
        node_id: a.node_id,
        node_name: a.node_name,
        claimed_at: iso(a.claimed_at),
        started_at: iso(a.started_at),
        ended_at: iso(a.ended_at),
        outcome: a.outcome,
        error_message: a.error_message,
      })),
    };
  }

  /** Task packages (docs/protocol.md §3.2) for claimed allocations: one query for the feeds, one for the tasks. */
  async packages(allocations: readonly AllocationRecord[]): Promise<TaskPackage[]> {
    if (allocations.length === 0) return [];
    const feedIds = [...new Set(allocations.flatMap((a) => a.feedIds))];
    const taskIds = [...new Set(allocations.map((a) => a.taskId))];
    const feeds = new Map<string, PackageFeed>();
    for (const ids of chunk(feedIds, 1000)) {
      const found = await this.db.selectFrom('feeds').select(PACKAGE_FEED_COLUMNS).where('id', 'in', ids).execute();
      for (const f of found) feeds.set(f.id, { ...f, status: Number(f.status) });
    }
    const tasks = new Map<string, PackageTaskFields>();
    // Not selectAll: `mps_id` holds every feed of the task (tens of KB for a large task) and a package needs none of it.
    const foundTasks = await this.db
      .selectFrom('message_tasks')
      .select(['id', ...PACKAGE_TASK_COLUMNS])
      .where('id', 'in', taskIds)
      .execute();
    for (const t of foundTasks) tasks.set(t.id, t);
    return allocations.map((allocation) => toTaskPackage(allocation, tasks.get(allocation.taskId), feeds));
  }

  /** Counts by status (metrics and GET /pending-allocations). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('allocations')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Allocations still `claimed` (not started by their node) that were claimed before `beforeMs`. */
  async countClaimedBefore(beforeMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('allocations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'claimed')
      .where('claimed_at', '<', beforeMs)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Executing allocations flagged stalled (metrics). */
  async countStalled(): Promise<number> {
    const row = await this.db
      .selectFrom('allocations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'executing')
      .where('stalled_at', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Feeds in claimed or executing allocations, by holding node (the parent's view of what each node holds). */
  async heldFeedsByNode(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('allocations')
      .select(['node_id', (eb) => eb.fn.sum<number>('feed_count').as('n')])
      .where('status', 'in', [...HELD_STATUSES])
      .where('node_id', 'is not', null)
      .groupBy('node_id')
      .execute();
    return new Map(rows.map((r) => [r.node_id as string, Number(r.n)]));
  }

  async countFinishedSince(status: 'completed' | 'failed', sinceMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('allocations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', status)
      .where('completed_at', '>=', sinceMs)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
