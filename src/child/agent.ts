import type { Logger } from 'pino';
import type { Executor, TaskPackage } from '../executors/types.js';
import { createGuardedFetch, type GuardedFetch } from '../net/guarded-fetch.js';
import { backoffDelayMs, sleep } from './backoff.js';
import { CAPACITY_UNTIL_KNOWN, childVersion, type ChildSettings } from './child-settings.js';
import { Delivery } from './delivery.js';
import { HealthServer } from './health-server.js';
import { ProgressCounter } from './allocation-progress.js';
import { Heartbeat } from './heartbeat.js';
import { ListSync } from './list-sync.js';
import { Outbox } from './outbox.js';
import { NO_RETRY, ParentClient, ParentRejection, describe } from './parent-client.js';
import { runAllocation, type AllocationOutcome } from './run-allocation.js';
import { Semaphore } from './semaphore.js';

/** The agent's life as an explicit state machine; any other move is a bug and throws. */
export const AgentState = Object.freeze({
  starting: 'starting',
  running: 'running',
  draining: 'draining',
  stopped: 'stopped',
} as const);
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

const AGENT_MOVES: Readonly<Record<AgentState, readonly AgentState[]>> = Object.freeze({
  starting: ['running', 'draining'],
  running: ['draining'],
  draining: ['stopped'],
  stopped: [],
});

export type AgentOptions = {
  settings: ChildSettings;
  executor: Executor;
  logger: Logger;
  /** Claim with wait=0 until the parent has no work, then stop (cron-style runs and tests). */
  once?: boolean;
};

export type AgentSummary = { completed: number; failed: number; dropped: number; outboxLeft: number };

/**
 * The child: heartbeats, claims with long-poll whenever it has free feed slots, runs each package, and never
 * loses a result (see Delivery). `run()` resolves when the agent has stopped: after `--once` ran out of work, or
 * after `stop()` drained in-flight work within the grace period.
 */
export class ChildAgent {
  private state: AgentState = AgentState.starting;
  private readonly client: ParentClient;
  private readonly outbox: Outbox;
  private readonly delivery: Delivery;
  private readonly heartbeat: Heartbeat;
  private readonly feedSlots: Semaphore;
  /** Feeds worked on at once: `max_concurrency`, else the node's `max_capacity` as the parent last reported it. */
  private capacity: number;
  private readonly inFlight = new Map<
    string,
    { feeds: number; progress: ProgressCounter; done: Promise<AllocationOutcome> }
  >();
  private readonly claimAbort = new AbortController();
  private readonly executorAbort = new AbortController();
  private readonly outboundFetch: GuardedFetch;
  private slotFreed: (() => void) | undefined;
  /** Ends the idle wait between claims early (a notify from the parent). */
  private wakeIdle: (() => void) | undefined;
  /** A notify arrived while no idle wait was running: the next one ends at once. */
  private notified = false;
  private readonly listSync: ListSync;
  private readonly summary: AgentSummary = { completed: 0, failed: 0, dropped: 0, outboxLeft: 0 };
  private stopping: Promise<AgentSummary> | undefined;
  private health: HealthServer | undefined;

  constructor(private readonly options: AgentOptions) {
    const { settings, logger } = options;
    this.client = new ParentClient({
      urls: settings.parentUrls,
      basePath: settings.apiBasePath,
      apiKey: settings.apiKey,
      apiSecret: settings.apiSecret,
      signing: settings.requestSigning,
      logger,
    });
    this.listSync = new ListSync(this.client, logger, settings.syncIntervalMs);
    this.outbox = new Outbox(settings.dataDir);
    for (const finding of this.outbox.modeFindings)
      logger.warn({ path: finding.path, mode: finding.mode }, finding.message);
    this.delivery = new Delivery(this.client, this.outbox, logger);
    this.capacity = settings.maxConcurrency ?? CAPACITY_UNTIL_KNOWN;
    this.feedSlots = new Semaphore(this.capacity);
    this.outboundFetch = createGuardedFetch(settings.networkPolicy);
    this.heartbeat = new Heartbeat({
      client: this.client,
      logger,
      intervalMs: settings.heartbeatIntervalMs,
      version: childVersion(),
      callbackUrl: settings.callbackUrl,
      currentTasks: () => this.heldFeeds(),
      outboxDepth: () => this.delivery.pending(),
      heldAllocationIds: () => [...new Set([...this.inFlight.keys(), ...this.outbox.allocationIds()])],
      progress: () => [...this.inFlight.values()].map((entry) => entry.progress.report()),
      onAlive: (answer) => {
        this.followCapacity(answer.max_capacity);
        if (this.delivery.pending() > 0) void this.delivery.flush();
      },
    });
  }

  get currentState(): AgentState {
    return this.state;
  }

  /** Runs until stopped; never throws for parent or feed trouble (those are logged and retried). */
  async run(): Promise<AgentSummary> {
    const { logger, settings } = this.options;
    logger.info(
      {
        parents: settings.parentUrls,
        max_concurrency: settings.maxConcurrency ?? 'max_capacity of the node',
        outbox: this.outbox.size(),
        once: Boolean(this.options.once),
      },
      'child starting',
    );
    if (settings.healthPort > 0) {
      const notify = settings.notifyKey ? { key: settings.notifyKey, onNotify: () => this.onNotify() } : undefined;
      this.health = new HealthServer(
        () => ({
          state: this.state,
          in_flight_allocations: this.inFlight.size,
          in_flight_feeds: this.heldFeeds(),
          outbox: this.delivery.pending(),
        }),
        notify,
      );
      const port = await this.health.listen(settings.healthPort);
      logger.info(
        { port, notify: Boolean(notify) },
        notify ? 'listening at /healthz and /api/v1/cascade/notify' : 'health endpoint listening at /healthz',
      );
    }
    this.heartbeat.start();
    await this.heartbeat.beat();
    if (!this.options.once) {
      this.listSync.start();
      void this.listSync.sync();
    }
    if (this.delivery.pending() > 0) await this.delivery.flush();
    if (this.state === AgentState.starting) this.move(AgentState.running);
    await this.claimLoop();
    return this.stop();
  }

  /** Stop claiming, let in-flight work finish within the grace period, report it, close. Safe to call twice. */
  stop(): Promise<AgentSummary> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<AgentSummary> {
    const { logger, settings } = this.options;
    if (this.state !== AgentState.draining) this.move(AgentState.draining);
    this.claimAbort.abort();
    this.slotFreed?.();
    this.wakeIdle?.();
    if (this.inFlight.size > 0)
      logger.info(
        { allocations: this.inFlight.size, grace_s: settings.shutdownGraceMs / 1000 },
        'stopping: finishing in-flight work',
      );
    const graceTimer = setTimeout(() => {
      logger.warn('grace period over: interrupting feeds still running');
      this.executorAbort.abort();
    }, settings.shutdownGraceMs);
    // A claim answered just before the stop still starts its packages; wait for those too.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()].map((a) => a.done));
    clearTimeout(graceTimer);
    // One last quick try to empty the outbox; what stays is replayed by the next start.
    if (this.delivery.pending() > 0) await this.delivery.flush();
    this.heartbeat.stop();
    this.listSync.stop();
    await this.health?.close();
    this.summary.outboxLeft = this.delivery.pending();
    this.outbox.close();
    this.move(AgentState.stopped);
    logger.info(this.summary, 'child stopped');
    return this.summary;
  }

  /** Without `max_concurrency` the child follows its node's capacity, also when an admin changes it. */
  private followCapacity(maxCapacity: number | undefined): void {
    if (
      this.options.settings.maxConcurrency !== undefined ||
      maxCapacity === undefined ||
      maxCapacity === this.capacity
    )
      return;
    if (!Number.isInteger(maxCapacity) || maxCapacity < 1) return;
    this.options.logger.info(
      { max_capacity: maxCapacity, was: this.capacity },
      "working on as many feeds at once as the node's max_capacity",
    );
    this.capacity = maxCapacity;
    this.feedSlots.resize(maxCapacity);
    this.slotFreed?.();
  }

  private heldFeeds(): number {
    let feeds = 0;
    for (const allocation of this.inFlight.values()) feeds += allocation.feeds;
    return feeds;
  }

  private async claimLoop(): Promise<void> {
    const { settings, logger, once } = this.options;
    let failures = 0;
    while (this.state === AgentState.running) {
      const free = this.capacity - this.heldFeeds();
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      const waitSeconds = once ? 0 : settings.claimWaitSeconds;
      let packages: TaskPackage[];
      this.notified = false;
      try {
        packages = await this.claim(waitSeconds, free);
        failures = 0;
      } catch (error) {
        if (this.claimAbort.signal.aborted) break;
        failures++;
        // An unreachable parent is announced once by the client; only a refusal is worth a line per failure.
        const level = error instanceof ParentRejection ? (error.status === 401 ? 'error' : 'warn') : 'debug';
        logger[level]({ parent: this.client.currentUrl, reason: describe(error), failures }, 'claim failed; retrying');
        await sleep(backoffDelayMs(failures - 1, 500, 30_000), this.claimAbort.signal);
        continue;
      }
      for (const pkg of packages) this.start(pkg);
      if (packages.length > 0) continue;
      if (once) {
        if (this.inFlight.size === 0) break;
        // Work may come back (a retry of an allocation that just failed): wait for one to finish, then ask again.
        await Promise.race([...this.inFlight.values()].map((a) => a.done));
      } else if (waitSeconds === 0) {
        await this.idle(settings.claimIntervalMs);
      }
    }
  }

  /** The parent placed work here: end the idle wait (long-poll off) so the child claims at once. */
  private onNotify(): void {
    this.options.logger.info({ idle: Boolean(this.wakeIdle) }, 'parent notified new work; claiming now');
    this.notified = true;
    this.wakeIdle?.();
  }

  /** Waits `ms` between claims, or less: a notify (also one that came during the last claim) or a stop ends it. */
  private idle(ms: number): Promise<void> {
    if (this.notified) return Promise.resolve();
    return new Promise((resolve) => {
      const signal = this.claimAbort.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeIdle = done;
    });
  }

  private async claim(waitSeconds: number, max: number): Promise<TaskPackage[]> {
    const data = await this.client.request<TaskPackage | { list: TaskPackage[] } | null>('POST', '/claim-task', {
      query: { wait: waitSeconds, max },
      signal: this.claimAbort.signal,
      retry: NO_RETRY,
      extraTimeoutMs: waitSeconds * 1000,
    });
    if (!data) return [];
    return 'list' in data ? data.list : [data];
  }

  private start(pkg: TaskPackage): void {
    const progress = new ProgressCounter(pkg.allocation_id);
    const done = runAllocation(pkg, {
      delivery: this.delivery,
      executor: this.options.executor,
      feedSlots: this.feedSlots,
      logger: this.options.logger,
      signal: this.executorAbort.signal,
      fetch: this.outboundFetch,
      retryAfter: { maxWaitMs: this.options.settings.retryAfterMaxMs, reserveMs: this.options.settings.fetchTimeoutMs },
      progress,
    })
      .catch((error: unknown): AllocationOutcome => {
        this.options.logger.error({ allocation_id: pkg.allocation_id, reason: describe(error) }, 'allocation crashed');
        return { allocationId: pkg.allocation_id, outcome: 'dropped', results: [] };
      })
      .then((outcome) => {
        this.summary[
          outcome.outcome === 'completed' ? 'completed' : outcome.outcome === 'failed' ? 'failed' : 'dropped'
        ]++;
        this.inFlight.delete(pkg.allocation_id);
        this.slotFreed?.();
        this.slotFreed = undefined;
        return outcome;
      });
    this.inFlight.set(pkg.allocation_id, { feeds: Math.max(1, pkg.feeds.length), progress, done });
  }

  private move(to: AgentState): void {
    if (!AGENT_MOVES[this.state].includes(to)) throw new Error(`child agent cannot move from ${this.state} to ${to}`);
    this.options.logger.debug({ from: this.state, to }, 'agent state');
    this.state = to;
  }
}
