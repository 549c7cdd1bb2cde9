import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Dispatcher } from './dispatcher.js';

export type SchedulerState = {
  running: boolean;
  /** The IANA zone every cron expression runs in. */
  timezone: string;
  /** `next_run` in UTC; `next_run_local` the same instant in `timezone`, with its offset. */
  jobs: Array<{
    task_id: string;
    task_name: string;
    cron_exp: string;
    next_run: string | null;
    next_run_local: string | null;
  }>;
  invalid: Array<{ task_id: string; task_name: string; cron_exp: string; error: string }>;
};

/** A full re-read of the tasks at this period, whatever the change mark says. */
const RELOAD_INTERVAL_MS = 60_000;
/**
 * How often the tasks' change mark is read: a task created or edited elsewhere (`cascade task add` on the store,
 * another parent) is scheduled within this time; this parent's API reloads at once.
 */
const TASK_WATCH_INTERVAL_MS = 1_000;

/**
 * Fires dispatch for each enabled task with a cron expression (5 or 6 fields). Every tick is recorded under the
 * key (task, scheduled time) inside the dispatch transaction, so a tick dispatches once even when several
 * parents on one database all run this scheduler.
 */
export class Scheduler {
  #jobs = new Map<string, { job: Cron; name: string; cron: string }>();
  #invalid: SchedulerState['invalid'] = [];
  #running = false;
  #reloadTimer: NodeJS.Timeout | undefined;
  #watchTimer: NodeJS.Timeout | undefined;
  /** The tasks' change mark when they were last read; undefined before the first read. */
  #seenMark: string | undefined;
  #watchFailing = false;
  #reloading: Promise<unknown> = Promise.resolve();
  #inFlight = new Set<Promise<unknown>>();

  /** `scheduler.timezone`, else the system's zone. */
  readonly timezone: string;

  constructor(
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    timezone?: string,
  ) {
    this.timezone = timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  async start(): Promise<SchedulerState> {
    this.#running = true;
    clearInterval(this.#reloadTimer);
    this.#reloadTimer = setInterval(
      () => void this.reload().catch((error: unknown) => this.logger.error({ err: error }, 'scheduler reload failed')),
      RELOAD_INTERVAL_MS,
    );
    this.#reloadTimer.unref();
    clearInterval(this.#watchTimer);
    this.#watchTimer = setInterval(() => void this.#reloadWhenChanged(), TASK_WATCH_INTERVAL_MS);
    this.#watchTimer.unref();
    try {
      await this.reload();
    } catch (error) {
      // The database may be restarting while the parent starts. The tasks were never read, so the watch above sees
      // a new change mark at its first look that succeeds and reads them then: the schedule waits, the parent starts.
      this.#watchFailing = true;
      this.logger.error({ err: error }, 'scheduler could not read the tasks; retrying every second');
    }
    return this.state();
  }

  async stop(): Promise<SchedulerState> {
    this.#running = false;
    clearInterval(this.#reloadTimer);
    clearInterval(this.#watchTimer);
    this.#stopJobs();
    await Promise.allSettled([...this.#inFlight]);
    return this.state();
  }

  /**
   * Re-reads the tasks; one task with a bad expression is reported, never stops the others. Reloads run one after
   * another, so an older read never lands after a newer one.
   */
  reload(): Promise<SchedulerState> {
    const run = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = run.catch(() => undefined);
    return run;
  }

  async #reloadNow(): Promise<SchedulerState> {
    if (!this.#running) return this.state();
    // Read before the tasks: a change landing in between shows as a new mark and is read on the next watch.
    const mark = await this.store.tasks.changeMark();
    const tasks = (await this.store.tasks.listEnabled()).filter((t) => t.cronExp.trim() !== '');
    const wanted = new Map(tasks.map((t) => [t.id, t]));
    for (const [id, entry] of this.#jobs) {
      if (wanted.get(id)?.cronExp.trim() !== entry.cron) {
        entry.job.stop();
        this.#jobs.delete(id);
      }
    }
    this.#invalid = [];
    for (const task of tasks) {
      const cron = task.cronExp.trim();
      if (this.#jobs.has(task.id)) continue;
      try {
        const job = new Cron(
          cron,
          {
            timezone: this.timezone,
            protect: true,
            unref: true,
            catch: (error: unknown) => this.logger.error({ err: error, task_id: task.id }, 'cron dispatch failed'),
          },
          (self: Cron) => this.#fire(task.id, self),
        );
        this.#jobs.set(task.id, { job, name: task.name, cron });
      } catch (error) {
        this.#invalid.push({ task_id: task.id, task_name: task.name, cron_exp: cron, error: (error as Error).message });
      }
    }
    this.#seenMark = mark;
    return this.state();
  }

  /** One look at the change mark; a failure is logged once until a look succeeds again (the database may be down). */
  async #reloadWhenChanged(): Promise<void> {
    try {
      if ((await this.store.tasks.changeMark()) !== this.#seenMark) await this.reload();
      this.#watchFailing = false;
    } catch (error) {
      if (!this.#watchFailing)
        this.logger.error({ err: error }, 'scheduler could not check for changed tasks; retrying every second');
      this.#watchFailing = true;
    }
  }

  state(): SchedulerState {
    return {
      running: this.#running,
      timezone: this.timezone,
      jobs: [...this.#jobs].map(([id, { job, name, cron }]) => {
        const next = job.nextRun();
        return {
          task_id: id,
          task_name: name,
          cron_exp: cron,
          next_run: next?.toISOString() ?? null,
          next_run_local: next ? localIso(next, this.timezone) : null,
        };
      }),
      invalid: this.#invalid,
    };
  }

  async #fire(taskId: string, job: Cron): Promise<void> {
    const scheduledAtMs = scheduledTime(job, Date.now());
    const run = this.dispatcher.run({ taskId, trigger: 'cron', tick: { scheduledAtMs } });
    this.#inFlight.add(run);
    try {
      const summary = await run;
      if (!summary.tick_already_fired)
        this.logger.info(
          {
            task_id: taskId,
            scheduled_at: new Date(scheduledAtMs).toISOString(),
            created: summary.allocations_created,
          },
          'cron dispatch',
        );
    } finally {
      this.#inFlight.delete(run);
    }
  }

  #stopJobs(): void {
    for (const { job } of this.#jobs.values()) job.stop();
    this.#jobs.clear();
  }
}

/** Look-back windows for finding the tick a late trigger belongs to, shortest first. */
const LOOK_BACK_MS = [5_000, 60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000];

/**
 * The tick a trigger belongs to: the latest scheduled time at or before now. Croner reports when it fired, not
 * the time it was scheduled for, and every parent must derive the same key for the same tick even when its event
 * loop was blocked and the trigger came late; so look back as far as needed, never fall back to "now".
 */
export function scheduledTime(job: Cron, nowMs: number): number {
  for (const window of LOOK_BACK_MS) {
    let tick = job.nextRun(new Date(nowMs - window));
    if (!tick || tick.getTime() > nowMs) continue;
    let latest = tick.getTime();
    while (tick && tick.getTime() <= nowMs) {
      latest = tick.getTime();
      tick = job.nextRun(tick);
    }
    return Math.floor(latest / 1000) * 1000;
  }
  // No tick within a year (a pattern like "29 Feb"): key by the second, as precisely as this parent can tell.
  return Math.floor(nowMs / 1000) * 1000;
}

/** `2026-11-30T09:00:00+08:00`: the instant as a wall-clock time in `timeZone`, with that zone's offset. */
export function localIso(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offsetMinutes = Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
