import type { Kysely } from 'kysely';
import type { Database, AllocationTable, MessageTaskTable } from '../tables.js';
import { chunk, iso, parseJson } from '../time.js';
import { ALL_STATUSES, HELD_STATUSES } from '../../domain/allocation-states.js';
import type { PackageFeed, TaskPackage } from '../../protocol/parent-messages.js';

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

/** One package from its claimed row, its task's fields (undefined: the task is gone) and its feeds by id. */
export function toTaskPackage(
  row: AllocationTable,
  task: PackageTaskFields | undefined,
  feeds: ReadonlyMap<string, PackageFeed>,
): TaskPackage {
  return {
    allocation_id: row.id,
    task_id: row.task_id,
    task_name: row.task_name,
    message_type: Number(task?.message_type ?? 0),
    message_template: task?.message_template ?? '',
    web_hook_url: task?.web_hook_url ?? '',
    cron_exp: task?.cron_exp ?? '',
    headers: parseJson<Record<string, string>>(task?.headers, {}),
    cookies: task?.cookies ?? '',
    feeds: parseJson<string[]>(row.feed_ids, []).map(
      (id) =>
        feeds.get(id) ?? {
          id,
          faker_id: '',
          mp_name: '',
          mp_cover: '',
          mp_intro: '',
          url: '',
          status: 0,
          etag: null,
          last_modified: null,
        },
    ),
    dispatched_at: iso(row.dispatched_at),
    attempt: Number(row.attempt),
    lease_expires_at: iso(row.lease_expires_at),
  };
}

export function toAllocationView(row: AllocationTable, nodeName: string | null): AllocationView {
  return {
    id: row.id,
    task_id: row.task_id,
    task_name: row.task_name,
    node_id: row.node_id,
    node_name: nodeName,
    feed_ids: parseJson<string[]>(row.feed_ids, []),
    status: row.status,
    attempt: Number(row.attempt),
    max_attempts: Number(row.max_attempts),
    available_at: iso(row.available_at),
    lease_expires_at: iso(row.lease_expires_at),
    placement: row.placement,
    result_summary: parseJson<unknown>(row.result_summary, null),
    error_message: row.error_message,
    dispatched_at: iso(row.dispatched_at),
    claimed_at: iso(row.claimed_at),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    schedule_run_id: row.schedule_run_id,
    article_count: Number(row.article_count),
    new_article_count: Number(row.new_article_count),
    progress:
      row.progress_at === null
        ? null
        : {
            feeds_done: Number(row.progress_feeds_done),
            bytes_read: Number(row.progress_bytes_read),
            last_progress_at: iso(row.progress_at),
          },
    stalled: row.stalled_at !== null && row.status === 'executing',
    stalled_at: row.status === 'executing' ? iso(row.stalled_at) : null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
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
    return { list: rows.map((r) => toAllocationView(r, r.node_name)), total: Number(total.n) };
  }

  async getRow(id: string): Promise<AllocationTable | undefined> {
    return this.db.selectFrom('allocations').selectAll().where('id', '=', id).executeTakeFirst();
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
    if (!withAttempts) return toAllocationView(row, row.node_name);
    const attempts = await this.db
      .selectFrom('allocation_attempts')
      .leftJoin('nodes', 'nodes.id', 'allocation_attempts.node_id')
      .selectAll('allocation_attempts')
      .select('nodes.name as node_name')
      .where('allocation_id', '=', id)
      .orderBy('allocation_attempts.id')
      .execute();
    return {
      ...toAllocationView(row, row.node_name),
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

  /** Task packages (docs/protocol.md §3.2) for claimed rows: one query for the feeds, one for the tasks. */
  async packages(rows: readonly AllocationTable[]): Promise<TaskPackage[]> {
    if (rows.length === 0) return [];
    const feedIds = [...new Set(rows.flatMap((r) => parseJson<string[]>(r.feed_ids, [])))];
    const taskIds = [...new Set(rows.map((r) => r.task_id))];
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
    return rows.map((row) => toTaskPackage(row, tasks.get(row.task_id), feeds));
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
