import type { Kysely } from 'kysely';
import { MOVES, type Move } from '../../domain/allocation-states.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { Capabilities } from '../dialects/capabilities.js';
import type { AllocationTable, Database } from '../tables.js';
import { parseJson } from '../time.js';
import { completionRhythm, failureRhythm, writeRhythm } from '../feed-rhythm.js';
import { completionFeedChanges, writeFeedChanges } from './completion-feeds.js';
import { planCompletion, type CompletionPlan, type FeedResult } from './completion-plan.js';
import { explainRefusal } from './refusal.js';
import { retryAt, type LeaseSettings, type NodeActor, type Trx } from './shared.js';
import { transition } from './transition.js';

export type { NodeActor };
import { completeInOneStatement, startInOneStatement } from './single-statement.js';

export type { FeedResult };

/** A completion's answer: the row, whether this call moved it (not a repeat), and whether unassigned work waits. */
export type Completion = { row: AllocationTable; moved: boolean; poolWork: boolean | undefined };

/** Who asks for a move: a node (child API), optionally naming the attempt it works on, or an admin (null). */
type Actor = NodeActor | null;

async function loadRow(trx: Trx, id: string, move: Move, actor: Actor, lock: boolean): Promise<AllocationTable> {
  const row = await trx
    .selectFrom('allocations')
    .selectAll()
    .where('id', '=', id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  const nodeId = actor?.nodeId ?? null;
  if (row && actor?.attempt !== undefined && Number(row.attempt) !== actor.attempt && row.node_id === actor.nodeId) {
    // The same node holds a newer attempt: this report belongs to one it lost (a retried request, a late answer).
    throw new CascadeError(
      'LEASE_LOST',
      `Attempt ${actor.attempt} of allocation '${id}' is over (it is on attempt ${row.attempt}); drop its work.`,
    );
  }
  if (!row || !MOVES[move].from.includes(row.status as never) || (nodeId !== null && row.node_id !== nodeId)) {
    return explainRefusal(trx, id, move, nodeId);
  }
  return row;
}

/**
 * Runs a move in one transaction. The row is read FOR UPDATE where the database has row locks, so nothing
 * changes it between the read and the guarded write; an idempotent repeat returns the row as it is.
 */
async function move(
  db: Kysely<Database>,
  lock: boolean,
  id: string,
  kind: Move,
  actor: Actor,
  effect: (trx: Trx, row: AllocationTable) => Promise<AllocationTable | undefined>,
): Promise<AllocationTable> {
  const nodeId = actor?.nodeId ?? null;
  return db.transaction().execute(async (trx) => {
    const row = await loadRow(trx, id, kind, actor, lock);
    // loadRow hands back a row outside the move's source states only for an idempotent repeat: answer as is.
    if (!MOVES[kind].from.includes(row.status as never)) return row;
    const moved = await effect(trx, row);
    return moved ?? explainRefusal(trx, id, kind, nodeId);
  });
}

export class AllocationMoves {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly settings: LeaseSettings,
    private readonly caps: Capabilities,
  ) {}

  /** claimed → executing; extends the lease. */
  async start(id: string, actor: NodeActor, nowMs: number): Promise<AllocationTable> {
    if (this.caps.singleStatements) {
      const moved = await startInOneStatement(this.db, this.settings, id, actor, nowMs);
      if (moved) return moved;
    }
    return move(this.db, this.caps.rowLocks, id, 'start', actor, (trx, row) =>
      transition(trx, row, 'start', { nowMs, settings: this.settings }),
    );
  }

  /** executing → completed, with per-feed results applied to the feeds and a sync log row. */
  async complete(
    id: string,
    actor: NodeActor,
    results: readonly FeedResult[],
    reportedArticleCount: number,
    nowMs: number,
  ): Promise<Completion> {
    const plan = planCompletion(results, reportedArticleCount);
    // PostgreSQL text cannot hold U+0000: such an id is in no allocation, and the general path says so.
    if (this.caps.singleStatements && !plan.reportedFeedIds.some((feedId) => feedId.includes('\u0000'))) {
      // Read before the statement, written within it: the feeds have this one live allocation, so nothing else
      // moves their rhythm in between, and a statement that does not move the allocation writes nothing.
      const allocationFeeds = plan.fetches.length > 0 ? [] : await this.#feedIdsOf(id);
      const rhythm = await completionRhythm(
        this.db,
        this.caps,
        plan.fetches,
        allocationFeeds,
        nowMs,
        this.settings.refresh,
      );
      const done = await completeInOneStatement(this.db, this.settings, id, actor, plan, nowMs, rhythm);
      if (done) return { ...done, moved: true };
    }
    let moved = false;
    const row = await move(this.db, this.caps.rowLocks, id, 'complete', actor, async (trx, row) => {
      const result = await this.#completeRow(trx, row, actor.nodeId, plan, nowMs);
      moved = result !== undefined;
      return result;
    });
    return { row, moved, poolWork: undefined };
  }

  async #completeRow(
    trx: Trx,
    row: AllocationTable,
    nodeId: string,
    plan: CompletionPlan,
    nowMs: number,
  ): Promise<AllocationTable | undefined> {
    const feedIds = new Set(parseJson<string[]>(row.feed_ids, []));
    const foreign = plan.reportedFeedIds.filter((feedId) => !feedIds.has(feedId));
    if (foreign.length > 0) {
      throw new CascadeError(
        'VALIDATION_FAILED',
        `results name feeds that are not in allocation '${row.id}': ${foreign.join(', ')}`,
        {
          details: foreign.map((mp) => ({ path: 'results.mp_id', message: `'${mp}' is not in this allocation` })),
        },
      );
    }
    const newCount = plan.newArticleCount ?? Number(row.new_article_count);
    const moved = await transition(trx, row, 'complete', {
      nowMs,
      settings: this.settings,
      values: { ...plan.values, new_article_count: newCount },
    });
    if (!moved) return undefined;
    // Read before the feeds' times move: the rhythm reads the previous sync time (docs/refresh.md).
    const rhythm = await completionRhythm(trx, this.caps, plan.fetches, [...feedIds], nowMs, this.settings.refresh);
    await writeFeedChanges(trx, completionFeedChanges(plan, rhythm, nodeId, nowMs));
    await trx
      .insertInto('sync_logs')
      .values({
        node_id: nodeId,
        operation: 'report_completion',
        direction: 'push',
        status: plan.syncLogStatus,
        data_count: plan.articleCount,
        error_message: plan.values.error_message ?? null,
        extra_data: JSON.stringify({
          allocation_id: row.id,
          task_id: row.task_id,
          new_article_count: newCount,
          results: plan.results,
        }),
        started_at: Number(row.claimed_at ?? nowMs),
        completed_at: nowMs,
      })
      .execute();
    return moved;
  }

  /**
   * executing → pending (attempt + 1, after backoff, back to the pool), or → failed on the last attempt or when the
   * failure is not retryable.
   */
  fail(
    id: string,
    actor: NodeActor,
    errorMessage: string,
    nowMs: number,
    retryable: boolean,
  ): Promise<AllocationTable> {
    return move(this.db, this.caps.rowLocks, id, 'failFinal', actor, async (trx, row) => {
      const last = !retryable || Number(row.attempt) >= Number(row.max_attempts);
      const kind: Move = last ? 'failFinal' : 'failRetry';
      const values: Partial<AllocationTable> = last
        ? { error_message: errorMessage }
        : requeueValues(
            row,
            nowMs,
            this.settings,
            errorMessage,
            `requeued after attempt ${row.attempt} failed on this node`,
          );
      const moved = await transition(trx, row, kind, {
        nowMs,
        settings: this.settings,
        values,
        attemptError: errorMessage,
      });
      // Work that ended failed backs its feeds off (docs/refresh.md); a retry is still to come otherwise.
      if (moved && last)
        await writeRhythm(
          trx,
          await failureRhythm(trx, parseJson<string[]>(row.feed_ids, []), nowMs, this.settings.refresh),
        );
      return moved;
    });
  }

  async #feedIdsOf(id: string): Promise<string[]> {
    const row = await this.db.selectFrom('allocations').select('feed_ids').where('id', '=', id).executeTakeFirst();
    return parseJson<string[]>(row?.feed_ids ?? '[]', []);
  }
}

/**
 * What a requeue writes besides what its move's entry owns (holder, attempt, lease, timestamps): the end of its
 * backoff, the error and the placement note.
 */
export function requeueValues(
  row: AllocationTable,
  nowMs: number,
  settings: LeaseSettings,
  errorMessage: string | null,
  reason: string,
): Partial<AllocationTable> {
  const availableAt = retryAt(nowMs, Number(row.attempt), settings);
  return {
    available_at: availableAt,
    // In line from the end of its backoff, not from its dispatch: behind work that waited longer, ahead of later work.
    claimable_at: availableAt,
    error_message: errorMessage,
    placement: `unassigned: ${reason}; the first node with room claims it`.slice(0, 1000),
  };
}

export { move };
