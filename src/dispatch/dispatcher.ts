import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { CascadeError } from '../errors/cascade-error.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { MessageTaskRecord } from '../store/message-tasks.js';
import { isTransientDatabaseError } from '../store/dialects/transient-error.js';
import { isUniqueViolation } from '../store/dialects/unique-violation.js';
import type { NodeNotifier, Placement } from './node-notifier.js';

export type DispatchTrigger = 'api' | 'cli' | 'cron';

export type DispatchSummary = {
  online_nodes: number;
  task_count: number;
  tasks: Array<{ id: string; name: string; mp_count: number }>;
  allocations_created: number;
  feeds_assigned: number;
  feeds_unassigned: number;
  feeds_skipped_in_flight: number;
  feeds_skipped_disabled: number;
  feeds_skipped_unknown: number;
  schedule_run_id: string;
  /** Fetch only what is due (docs/refresh.md): true when the dispatch was forced and took not-due feeds too. */
  forced: boolean;
  /** Enabled feeds left out because they are not due yet. */
  feeds_skipped_not_due: number;
  /** When the soonest of them is due (ISO); null when none was skipped. */
  next_due_at: string | null;
  /** The skipped feeds with when each is due, soonest first; at most NOT_DUE_LISTED (the count says how many in all). */
  not_due: Array<{ task_id: string; feed_id: string; next_due_at: string }>;
  /** Cron only: true when another parent already dispatched this tick. */
  tick_already_fired?: boolean;
};

/** Not-due feeds a dispatch answer lists by name; the rest are counted. */
const NOT_DUE_LISTED = 100;

/** Concurrent dispatches of one task collide on the live-feed key; the loser re-reads and skips what is live. */
const ATTEMPTS_ON_COLLISION = 3;

/**
 * Splits tasks into allocations and places their feeds (docs/protocol.md §5); one transaction per task. Only
 * feeds that are due go out unless forced (docs/refresh.md); the summary names the ones left for later.
 */
export class Dispatcher {
  constructor(
    private readonly store: Store,
    private readonly dispatch: Config['dispatch'],
    private readonly metrics?: Metrics,
    private readonly notifier?: NodeNotifier,
    /** Told of every dispatch's outcome (the console's live feed). */
    private readonly onDispatched?: (summary: DispatchSummary) => void,
  ) {}

  /** Dispatches one task (taskId) or every enabled task. `tick` marks a cron run so it happens once per tick. */
  /** `force`: dispatch every enabled feed, due or not (`?force=true`, `--force`). */
  async run(options: {
    taskId?: string | undefined;
    trigger: DispatchTrigger;
    tick?: { scheduledAtMs: number };
    force?: boolean | undefined;
  }): Promise<DispatchSummary> {
    const tasks = await this.#tasks(options.taskId);
    const force = options.force === true;
    let soonestDue: number | undefined;
    const scheduleRunId = randomUUID();
    const summary: DispatchSummary = {
      online_nodes: await this.store.dispatchSources.onlineNodeCount(Date.now(), this.dispatch.offline_after_seconds),
      task_count: tasks.length,
      tasks: [],
      allocations_created: 0,
      feeds_assigned: 0,
      feeds_unassigned: 0,
      feeds_skipped_in_flight: 0,
      feeds_skipped_disabled: 0,
      feeds_skipped_unknown: 0,
      schedule_run_id: scheduleRunId,
      forced: force,
      feeds_skipped_not_due: 0,
      next_due_at: null,
      not_due: [],
    };
    const placed: Placement[] = [];
    for (const task of tasks) {
      const feeds = await this.store.dispatchSources.resolveFeeds(task, { nowMs: Date.now(), force });
      summary.tasks.push({ id: task.id, name: task.name, mp_count: feeds.enabled.length });
      summary.feeds_skipped_not_due += feeds.notDue.length;
      for (const skipped of feeds.notDue) {
        soonestDue = Math.min(soonestDue ?? skipped.next_due_at, skipped.next_due_at);
        if (summary.not_due.length < NOT_DUE_LISTED)
          summary.not_due.push({
            task_id: task.id,
            feed_id: skipped.id,
            next_due_at: new Date(skipped.next_due_at).toISOString(),
          });
      }
      summary.feeds_skipped_disabled += feeds.disabled.length;
      summary.feeds_skipped_unknown += feeds.unknown.length;
      const outcome = await this.#dispatchTask(task, feeds.enabled, scheduleRunId, options.tick);
      if (outcome.tickAlreadyFired) summary.tick_already_fired = true;
      summary.allocations_created += outcome.allocationsCreated;
      summary.feeds_assigned += outcome.feedsAssigned;
      summary.feeds_unassigned += outcome.feedsUnassigned;
      summary.feeds_skipped_in_flight += outcome.feedsSkippedInFlight;
      placed.push(...outcome.placed);
    }
    if (soonestDue !== undefined) summary.next_due_at = new Date(soonestDue).toISOString();
    summary.not_due.sort((a, b) => (a.next_due_at < b.next_due_at ? -1 : a.next_due_at > b.next_due_at ? 1 : 0));
    this.notifier?.notify(placed);
    if (!summary.tick_already_fired) {
      this.metrics?.dispatches.inc({ trigger: options.trigger });
      this.onDispatched?.(summary);
    }
    return summary;
  }

  async #tasks(taskId: string | undefined): Promise<MessageTaskRecord[]> {
    if (taskId === undefined) return this.store.tasks.listEnabled();
    const task = await this.store.tasks.get(taskId);
    if (!task.enabled)
      throw new CascadeError(
        'UNPROCESSABLE',
        `Message task '${taskId}' is disabled; enable it (status 1) to dispatch it.`,
      );
    return [task];
  }

  async #dispatchTask(
    task: MessageTaskRecord,
    feedIds: string[],
    scheduleRunId: string,
    tick: { scheduledAtMs: number } | undefined,
  ) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.store.allocations.dispatch({
          taskId: task.id,
          taskName: task.name,
          feedIds,
          scheduleRunId,
          nowMs: Date.now(),
          feedsPerAllocation: this.dispatch.feeds_per_allocation,
          offlineAfterSeconds: this.dispatch.offline_after_seconds,
          suspectAfterBeats: this.dispatch.suspect_after_beats,
          tick,
        });
      } catch (error) {
        // A concurrent dispatch took the same live feeds, or the database chose this transaction as a deadlock
        // victim: run again; the retry re-reads what is live and skips it.
        const retryable = isUniqueViolation(error) || isTransientDatabaseError(error);
        if (!retryable || attempt >= ATTEMPTS_ON_COLLISION) {
          if (retryable)
            throw new CascadeError(
              'CONFLICT',
              `Another dispatch of task '${task.id}' ran at the same moment; try again.`,
              { cause: error },
            );
          throw error;
        }
      }
    }
  }
}
