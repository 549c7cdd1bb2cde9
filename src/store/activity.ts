import { sql, type Kysely } from 'kysely';
import type { AllocationStatus } from '../domain/allocation-states.js';
import type { UpdateStatus } from '../domain/feed-freshness.js';
import type { LivenessRules } from '../domain/node-liveness.js';
import { toNodeRecord, toNodeView, type NodeView } from './nodes.js';
import type { Database } from './tables.js';

/** What the console's live feed needs to know about one allocation that moved. */
export type AllocationChange = {
  id: string;
  task_id: string;
  task_name: string;
  node_id: string | null;
  status: AllocationStatus;
  attempt: number;
  error_message: string | null;
  updated_at_ms: number;
};

export type MinuteCounts = { minute_ms: number; completed: number; failed: number };

const MINUTE_MS = 60_000;

/**
 * Read-only questions the web console asks about recent activity across every parent on this database:
 * which allocations changed since a moment (served by the updated_at index, migration 011), finished work per
 * minute, and every node's current view for liveness changes.
 */
export class ActivityStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly livenessRules: LivenessRules,
  ) {}

  /** Allocations whose row changed at or after `sinceMs`, oldest change first. */
  async allocationsChangedSince(sinceMs: number, limit: number): Promise<AllocationChange[]> {
    const rows = await this.db
      .selectFrom('allocations')
      .select(['id', 'task_id', 'task_name', 'node_id', 'status', 'attempt', 'error_message', 'updated_at'])
      .where('updated_at', '>=', sinceMs)
      .orderBy('updated_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      task_id: r.task_id,
      task_name: r.task_name,
      node_id: r.node_id,
      status: r.status as AllocationStatus,
      attempt: Number(r.attempt),
      error_message: r.error_message,
      updated_at_ms: Number(r.updated_at),
    }));
  }

  /**
   * Completed and failed allocations per minute since `sinceMs`, only minutes with any. A finished row's
   * updated_at is its completed_at (the final move sets both), so the updated_at index bounds the read.
   */
  async finishedPerMinute(sinceMs: number): Promise<MinuteCounts[]> {
    const minute = sql<number>`(completed_at - (completed_at % ${sql.lit(MINUTE_MS)}))`;
    const rows = await this.db
      .selectFrom('allocations')
      .select([minute.as('minute_ms'), 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('updated_at', '>=', sinceMs)
      .where('status', 'in', ['completed', 'failed'])
      .where('completed_at', '>=', sinceMs)
      .groupBy([minute, 'status'])
      .execute();
    const byMinute = new Map<number, MinuteCounts>();
    for (const row of rows) {
      const minuteMs = Number(row.minute_ms);
      const counts = byMinute.get(minuteMs) ?? { minute_ms: minuteMs, completed: 0, failed: 0 };
      if (row.status === 'completed') counts.completed += Number(row.n);
      else counts.failed += Number(row.n);
      byMinute.set(minuteMs, counts);
    }
    return [...byMinute.values()].sort((a, b) => a.minute_ms - b.minute_ms);
  }

  /** Feeds by the docs/protocol.md §3.1 freshness buckets of their last successful update. */
  async feedFreshness(nowMs: number): Promise<Record<UpdateStatus, number>> {
    const nowSeconds = Math.floor(nowMs / 1000);
    const hoursAgo = (hours: number) => nowSeconds - hours * 3600;
    const rows = await this.db
      .selectFrom('feeds')
      .select((eb) => [
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>(eb.case().when('update_time', '>', hoursAgo(1)).then(1).else(0).end()).as('fresh'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb('update_time', '<=', hoursAgo(1)), eb('update_time', '>', hoursAgo(24))]))
              .then(1)
              .else(0)
              .end(),
          )
          .as('recent'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb('update_time', '<=', hoursAgo(24)), eb('update_time', '>', hoursAgo(72))]))
              .then(1)
              .else(0)
              .end(),
          )
          .as('stale'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb('update_time', '<=', hoursAgo(72)), eb('update_time', '>', 0)]))
              .then(1)
              .else(0)
              .end(),
          )
          .as('outdated'),
      ])
      .executeTakeFirstOrThrow();
    const counts = {
      fresh: Number(rows.fresh ?? 0),
      recent: Number(rows.recent ?? 0),
      stale: Number(rows.stale ?? 0),
      outdated: Number(rows.outdated ?? 0),
    };
    return { ...counts, unknown: Number(rows.total) - counts.fresh - counts.recent - counts.stale - counts.outdated };
  }

  /** Every node as the API shows it, status derived at `nowMs`. */
  async nodeViews(nowMs: number): Promise<NodeView[]> {
    const rows = await this.db.selectFrom('nodes').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => toNodeView(toNodeRecord(r), nowMs, this.livenessRules));
  }
}
