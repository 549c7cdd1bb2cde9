import { sql, type Kysely, type RawBuilder } from 'kysely';
import { HELD_STATUSES, MOVES, type Move } from '../../domain/allocation-states.js';
import type { AllocationTable, Database } from '../tables.js';
import {
  PACKAGE_FEED_COLUMNS,
  PACKAGE_TASK_COLUMNS,
  toAllocationRecord,
  toTaskPackage,
  type PackageFeed,
  type PackageTaskFields,
  type TaskPackage,
} from './views.js';
import type { CompletionPlan } from './completion-plan.js';
import type { RhythmUpdate } from '../feed-rhythm.js';
import { leaseUntil, type LeaseSettings, type NodeActor } from './shared.js';

/**
 * PostgreSQL runs the hot moves (a node claiming its pre-assigned work, start, complete) with all their
 * bookkeeping as one statement of data-modifying CTEs: one round trip and an implicit transaction instead of a
 * transaction of 5 to 10 statements. The peer benchmark showed that round trips, not work, bound this path.
 *
 * Each statement is guarded on everything the general path checks (status, holder, attempt, the results'
 * feeds), so it either makes exactly the move the general path would make or changes nothing. When it changes
 * nothing, the caller falls back to the general path, which explains the refusal (NOT_FOUND, LEASE_LOST,
 * INVALID_TRANSITION, VALIDATION_FAILED) or answers an idempotent repeat (a claim instead goes on to the general
 * claim for unassigned work). Start and complete lock the allocation row, then the node row, as the general moves
 * do; the claim statement locks allocation rows only.
 *
 * The statements are PostgreSQL-only, so they are written in PostgreSQL. Lists travel as one array parameter,
 * which keeps each statement's text constant (the connection prepares it once).
 *
 * What a move does besides its own columns is built from its entry in MOVES (`ownedSet`, `effectCtes`), the same
 * entry store/allocations/transition.ts applies on the general path; test/store/allocations/move-spec-both-ways
 * runs every move both ways on PostgreSQL and compares the rows they leave.
 */

/** The states a move starts from, as one array parameter. */
function from(move: Move) {
  return sql`cast(${[...MOVES[move].from]} as text[])`;
}

/** The SET list of what the move's entry owns: status, holder, lease, attempt, timestamps, updated_at. */
function ownedSet(move: Move, nowMs: number, settings: LeaseSettings, claimer?: string): RawBuilder<unknown> {
  const spec = MOVES[move];
  const parts = [sql`status = ${spec.to}`, sql`updated_at = ${nowMs}`];
  if (spec.holder === 'claimer') parts.push(sql`node_id = ${claimer ?? null}`);
  if (spec.holder === 'pool') parts.push(sql`node_id = null`);
  if (spec.lease === 'set') parts.push(sql`lease_expires_at = ${leaseUntil(nowMs, settings)}`);
  if (spec.lease === 'clear') parts.push(sql`lease_expires_at = null`);
  if (spec.attempt === 'next') parts.push(sql`attempt = attempt + 1`);
  // The claim statement runs only without politeness (claim.ts): its rows hold no host slots.
  if (spec.hostSlots === 'take') parts.push(sql`held_hosts = null`);
  for (const [column, change] of Object.entries(spec.times))
    parts.push(change === 'now' ? sql`${sql.ref(column)} = ${nowMs}` : sql`${sql.ref(column)} = null`);
  return sql.join(parts);
}

/**
 * The move's effects as data-modifying CTEs over the CTE `moved` (the rows the guarded UPDATE returned). A claim
 * statement takes only the node's own pre-assigned rows, whose feeds dispatch already counted: no load to take.
 */
function effectCtes(move: Move, nowMs: number): RawBuilder<unknown> {
  const spec = MOVES[move];
  const ctes: Array<RawBuilder<unknown>> = [];
  if (spec.load === 'free') {
    const sync = spec.stampsNodeSync ? sql`, last_sync_at = ${nowMs}` : sql``;
    ctes.push(sql`node_load as (
      update nodes set load_feeds = nodes.load_feeds - moved.feed_count${sync}, updated_at = ${nowMs}
      from moved where nodes.id = moved.node_id
      returning nodes.id
    )`);
  }
  if (spec.hostSlots === 'free') {
    // Every statement's move starts from held states (see the history check below), whose claim counted hosts.
    if (spec.load !== 'free')
      throw new Error(`'${move}' frees host slots but no load: the host rows must be locked after the node row`);
    // What the claim counted per host, given back. The uncorrelated subqueries run first (InitPlans): the node row
    // is locked before the host rows, as on the general path and in the claim, and the host rows are locked in
    // `order by host`, the order of the claim's locking read, not in whatever order the join meets them.
    ctes.push(sql`hosts_locked as (
      select host_state.host from host_state
      where host_state.host in (
          select h.key from moved, json_each_text(cast(moved.held_hosts as json)) as h
          where moved.held_hosts is not null
        ) and (select count(*) from node_load) >= 0
      order by host_state.host
      for update
    ), hosts_freed as (
      update host_state set in_flight = host_state.in_flight - x.feeds, updated_at = ${nowMs}
      from (
        select h.key as host, sum(cast(h.value as integer)) as feeds
        from moved, json_each_text(cast(moved.held_hosts as json)) as h
        where moved.held_hosts is not null
        group by h.key
      ) as x
      where host_state.host = x.host and (select count(*) from hosts_locked) >= 0
    )`);
  }
  const history = spec.history;
  if (history.kind === 'open') {
    ctes.push(sql`history as (
      insert into allocation_attempts (allocation_id, attempt, node_id, claimed_at)
      select id, attempt, node_id, claimed_at from moved
    )`);
  } else if (history.kind === 'start') {
    ctes.push(sql`history as (
      update allocation_attempts h set started_at = moved.started_at
      from moved where h.allocation_id = moved.id and h.attempt = moved.attempt
    )`);
  } else if (history.kind === 'close') {
    const [outcome, ...others] = history.outcomes;
    if (outcome === undefined || others.length > 0 || spec.from.some((status) => !HELD_STATUSES.includes(status))) {
      throw new Error(`'${move}' has no single statement: it needs one outcome and held source states`);
    }
    ctes.push(sql`history as (
      update allocation_attempts h set ended_at = ${nowMs}, outcome = ${outcome}, error_message = null
      from moved where h.allocation_id = moved.id and h.attempt = moved.attempt and h.ended_at is null
    )`);
  }
  if (spec.liveFeeds === 'drop')
    ctes.push(sql`live as (delete from live_feeds using moved where live_feeds.allocation_id = moved.id)`);
  if (spec.liveFeeds === 'add' || spec.liveFeeds === 'handOver' || (spec.load === 'take' && move !== 'claim')) {
    throw new Error(`'${move}' has no single statement`);
  }
  return ctes.length === 0 ? sql`` : sql`, ${sql.join(ctes)}`;
}

/** The attempt guard: any attempt when the report names none (the original child does not). */
function attemptMatches(attempt: number | undefined) {
  const value = attempt ?? null;
  return sql`(cast(${value} as integer) is null or attempt = cast(${value} as integer))`;
}

/** claimed → executing for the caller's attempt; the attempt history records the start. */
export async function startInOneStatement(
  db: Kysely<Database>,
  settings: LeaseSettings,
  id: string,
  actor: NodeActor,
  nowMs: number,
): Promise<AllocationTable | undefined> {
  const { rows } = await sql<AllocationTable>`
    with moved as (
      update allocations set ${ownedSet('start', nowMs, settings)}
      where id = ${id} and status = any(${from('start')}) and node_id = ${actor.nodeId} and ${attemptMatches(actor.attempt)}
      returning *
    )${effectCtes('start', nowMs)}
    select * from moved`.execute(db);
  return rows[0];
}

/**
 * executing → completed for the caller's attempt, with the node's load and last sync, the live-feed index, the
 * attempt history, the feeds' update times and the sync log. Also answers whether unassigned work is waiting, so
 * the caller can wake claimers for the capacity this frees without another query.
 */
export async function completeInOneStatement(
  db: Kysely<Database>,
  settings: LeaseSettings,
  id: string,
  actor: NodeActor,
  plan: CompletionPlan,
  nowMs: number,
  /** The feeds' learned rhythm (src/store/feed-rhythm.ts), read before this statement and written by it. */
  rhythm: readonly RhythmUpdate[] = [],
): Promise<{ row: AllocationTable; poolWork: boolean } | undefined> {
  // PostgreSQL text cannot hold U+0000; such an id is in no allocation, and the general path says so.
  if (plan.reportedFeedIds.some((feedId) => feedId.includes('\u0000'))) return undefined;
  const { values } = plan;
  const seconds = Math.floor(nowMs / 1000);
  const { rows } = await sql<AllocationTable & { pool_work: boolean }>`
    with moved as (
      update allocations
      set ${ownedSet('complete', nowMs, settings)}, article_count = ${plan.articleCount},
        new_article_count = coalesce(cast(${plan.newArticleCount ?? null} as integer), new_article_count),
        result_summary = ${values.result_summary ?? null}, error_message = ${values.error_message ?? null}
      where id = ${id} and status = any(${from('complete')}) and node_id = ${actor.nodeId} and ${attemptMatches(actor.attempt)}
        -- every reported feed must belong to the allocation; otherwise the general path rejects the report
        and cast(feed_ids as jsonb) @> cast(${JSON.stringify(plan.reportedFeedIds)} as jsonb)
      returning *
    )${effectCtes('complete', nowMs)}, feeds_locked as (
      -- the feed rows in key order (collate "C", src/store/key-order.ts), as an article upload and the general path
      -- lock them, before the update below meets them in whatever order its join takes
      select feeds.id from feeds
      where feeds.id in (
          select unnest(cast(${plan.succeededFeedIds} as text[]))
          union select h0.id from json_to_recordset(cast(${JSON.stringify(rhythm)} as json)) as h0(id text)
        ) and exists (select 1 from moved)
      order by feeds.id collate "C"
      for update
    ), fed as (
      -- one UPDATE per feed row (PostgreSQL updates a row once per statement): times and the fetching node (warm
      -- placement) of succeeded feeds, validators when reported, and the learned rhythm of every fetched feed
      -- (docs/refresh.md)
      update feeds set
        update_time = case when v.succeeded then ${seconds} else feeds.update_time end,
        sync_time = case when v.succeeded then ${seconds} else feeds.sync_time end,
        last_node_id = case when v.succeeded then moved.node_id else feeds.last_node_id end,
        updated_at = case when v.succeeded then ${nowMs} else feeds.updated_at end,
        etag = case when v.reported then v.etag else feeds.etag end,
        last_modified = case when v.reported then v.last_modified else feeds.last_modified end,
        next_due_at = case when v.learned then v.next_due_at else feeds.next_due_at end,
        refresh_interval_seconds = case when v.learned then v.refresh_interval_seconds else feeds.refresh_interval_seconds end,
        refresh_failures = case when v.learned then v.refresh_failures else feeds.refresh_failures end,
        refresh_hint_seconds = case when v.learned then v.refresh_hint_seconds else feeds.refresh_hint_seconds end
      from moved, (
        select k.id, s.id is not null as succeeded, r.id is not null as reported, r.etag, r.last_modified,
          h.id is not null as learned, h.next_due_at, h.refresh_interval_seconds, h.refresh_failures, h.refresh_hint_seconds
        from (
          select unnest(cast(${plan.succeededFeedIds} as text[])) as id
          union select h0.id from json_to_recordset(cast(${JSON.stringify(rhythm)} as json)) as h0(id text)
        ) as k
        left join unnest(cast(${plan.succeededFeedIds} as text[])) as s(id) on s.id = k.id
        left join json_to_recordset(cast(${JSON.stringify(plan.validators)} as json)) as r(id text, etag text, last_modified text) on r.id = k.id
        left join json_to_recordset(cast(${JSON.stringify(rhythm)} as json))
          as h(id text, next_due_at bigint, refresh_interval_seconds integer, refresh_failures integer, refresh_hint_seconds integer) on h.id = k.id
      ) as v
      where feeds.id = v.id and (select count(*) from feeds_locked) >= 0
    ), logged as (
      insert into sync_logs (node_id, operation, direction, status, data_count, error_message, extra_data, started_at, completed_at)
      select moved.node_id, 'report_completion', 'push', cast(${plan.syncLogStatus} as integer), moved.article_count, moved.error_message,
        json_build_object('allocation_id', moved.id, 'task_id', moved.task_id, 'new_article_count', moved.new_article_count, 'results', cast(${JSON.stringify(plan.results)} as json))::text,
        coalesce(moved.claimed_at, moved.completed_at), moved.completed_at
      from moved
    )
    -- a function, not a subquery: it must see work committed while this statement waited for the row (migration 004)
    select moved.*, cascade_unassigned_work_ready(${nowMs}) as pool_work
    from moved`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { pool_work: poolWork, ...moved } = row;
  return { row: moved, poolWork };
}

/**
 * pending → claimed for up to `max` of the node's own pre-assigned allocations, longest claimable first, each with its task
 * package (the task's fields and the feeds), which would otherwise take two more round trips. Their feeds are
 * already counted in the node's load (dispatch counted them), so the node row is neither read nor locked; rows
 * another claimer or a release holds are skipped. Unassigned work, which needs the capacity check, is left to
 * the general claim.
 */
export async function claimOwnInOneStatement(
  db: Kysely<Database>,
  settings: LeaseSettings,
  nodeId: string,
  max: number,
  nowMs: number,
): Promise<Array<{ row: AllocationTable; package: TaskPackage }>> {
  const { rows } = await sql<AllocationTable & PackageParts>`
    with picked as (
      select id from allocations
      where status = any(${from('claim')}) and node_id = ${nodeId} and available_at <= ${nowMs}
      order by claimable_at, id
      limit ${max}
      for update skip locked
    ), moved as (
      update allocations a
      set ${ownedSet('claim', nowMs, settings, nodeId)}, error_message = null
      from picked where a.id = picked.id and a.status = any(${from('claim')}) and a.node_id = ${nodeId}
      returning a.*
    )${effectCtes('claim', nowMs)}
    select moved.*,
      (select json_build_object(${sql.join(PACKAGE_TASK_COLUMNS.map((c) => sql`${sql.lit(c)}, t.${sql.ref(c)}`))})
         from message_tasks t where t.id = moved.task_id) as package_task,
      (select coalesce(json_agg(json_build_object(${sql.join(PACKAGE_FEED_COLUMNS.map((c) => sql`${sql.lit(c)}, f.${sql.ref(c)}`))})), '[]')
         from feeds f where f.id in (select jsonb_array_elements_text(cast(moved.feed_ids as jsonb)))) as package_feeds
    from moved order by moved.claimable_at, moved.id`.execute(db);
  return rows.map(({ package_task: task, package_feeds: feeds, ...row }) => ({
    row,
    package: toTaskPackage(
      toAllocationRecord(row),
      task ?? undefined,
      new Map(feeds.map((feed) => [feed.id, { ...feed, status: Number(feed.status) }])),
    ),
  }));
}

/** What the claim statement adds to each row for its package (node-postgres parses the json columns). */
type PackageParts = { package_task: PackageTaskFields | null; package_feeds: PackageFeed[] };
