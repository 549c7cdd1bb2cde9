import pino from 'pino';
import { decideRetryAfter } from '../../../src/child/retry-after-policy.js';
import { Dispatcher } from '../../../src/dispatch/dispatcher.js';
import { Sweeper } from '../../../src/dispatch/sweeper.js';
import { CascadeError } from '../../../src/errors/cascade-error.js';
import type { FeedResult } from '../../../src/protocol/child-requests.js';
import type { TaskPackage } from '../../../src/protocol/parent-messages.js';
import type { ArticleInput } from '../../../src/store/articles.js';
import { databaseOf, type Store } from '../../../src/store/store.js';
import { percentile } from '../stats.js';
import { openBenchStore, seedFeeds, seedTask } from '../seed.js';
import { refreshHintsOf, type CrawlArm, type RefreshHintsReport } from './arms.js';
import { Corpus, seededRandom, type CorpusSize } from './corpus.js';
import { SimClock } from './sim-clock.js';

export type CrawlSettings = CorpusSize & { seed: number; nodes: number; nodeCapacity: number };

export type CrawlArmResult = {
  arm: string;
  /** Requests sent to origins, whatever the answer. */
  fetches: number;
  ok: number;
  notModified: number;
  rateLimited: number;
  dispatches: number;
  allocationsCompleted: number;
  allocationsFailed: number;
  /** Claim looks the children made, and how many of them found nothing. */
  claims: number;
  emptyClaims: number;
  /** Articles published in the window early enough to be owed (see `collectionCutoffMs`). */
  articlesOwed: number;
  articlesCollected: number;
  /** Collection delay over every owed article; an uncollected one counts with its age at the end (a lower bound). */
  delayP50Ms: number;
  delayP95Ms: number;
  delayMaxMs: number;
  simEvents: number;
  wallSeconds: number;
};

/** Simulated child behaviour, as the real child's defaults have it. */
const HEARTBEAT_EVERY_MS = 60_000;
const CLAIM_WAIT_MS = 30_000;
const RETRY_AFTER_MAX_MS = 60_000;
const FETCH_TIMEOUT_MS = 20_000;
/** Round trip to the parent for one child request (claim answer, report). */
const PARENT_RTT_MS = 20;
/** The claimer's shortest wait for a host's interval to end. */
const MIN_HOST_WAIT_MS = 5;
/** An origin's answer takes 200–1200 ms. */
const FETCH_MIN_MS = 200;
const FETCH_SPREAD_MS = 1000;
/** The window starts on a fixed instant so that runs with one seed match (a Monday 00:00 UTC). */
export const CRAWL_START_MS = Date.UTC(2026, 10, 2);

/**
 * Articles published this close to the end are not owed: no arm refreshing every 15 minutes could be expected to
 * have collected them yet. The same cut-off applies to every arm.
 */
function collectionCutoffMs(corpus: Corpus): number {
  return corpus.endMs - 15 * 60_000;
}

type SimNode = { id: string; name: string; running: number; claiming: boolean; parked: boolean; pollToken: number };

/**
 * One arm over a fresh database: the real store, dispatcher, claim, start, upload, completion, failure and sweeper,
 * on the simulated clock; simulated children fetch from the corpus model instead of the network.
 */
export async function runCrawlArm(
  databaseUrl: string,
  settings: CrawlSettings,
  arm: CrawlArm,
  log: (message: string) => void = () => undefined,
): Promise<CrawlArmResult> {
  const wallStarted = performance.now();
  const corpus = new Corpus(settings.seed, settings, CRAWL_START_MS);
  const clock = new SimClock(CRAWL_START_MS);
  const latency = seededRandom(settings.seed ^ 0x5eed);
  const { store, config } = await openBenchStore(databaseUrl, arm.configOverrides);
  const counts = {
    fetches: 0,
    ok: 0,
    notModified: 0,
    rateLimited: 0,
    dispatches: 0,
    completed: 0,
    failed: 0,
    claims: 0,
    emptyClaims: 0,
  };
  try {
    const feedIds = await seedFeeds(store, corpus.feeds.length, (i) => corpus.feeds[i]?.url as string);
    const feedIndex = new Map(feedIds.map((id, i) => [id, i]));
    const taskId = await seedTask(store, feedIds, 'crawl-task');
    const nodes: SimNode[] = [];
    for (let i = 0; i < settings.nodes; i += 1) {
      const name = `crawl-node-${String(i + 1).padStart(2, '0')}`;
      const { node } = await store.nodes.create({
        node_type: 1,
        name,
        sync_config: { max_capacity: settings.nodeCapacity },
      });
      await store.nodes.recordHeartbeat(node.id, {}, clock.now());
      nodes.push({ id: node.id, name, running: 0, claiming: false, parked: false, pollToken: 0 });
    }
    const silent = pino({ level: 'silent' });
    const dispatcher = new Dispatcher(store, config.dispatch);
    const sweeper = new Sweeper(store, config.dispatch, silent);

    // The parent wakes its waiting long-polls when work becomes claimable; here the "waiting long-polls" are the
    // parked simulated children. The store's own channel would also poll the database on a real-time timer, which
    // a simulated clock cannot follow, so publishing wakes the parked children directly instead.
    const wakeParked = () => {
      for (const node of nodes) {
        if (!node.parked) continue;
        // A woken long-poll looks once, then waits again: a second wake before it looked adds nothing.
        node.parked = false;
        clock.after(PARENT_RTT_MS, () => claimFor(node));
      }
    };
    (store.wake as { publish: () => Promise<void> }).publish = async () => wakeParked();

    const claimFor = async (node: SimNode): Promise<void> => {
      if (node.claiming) return;
      const free = settings.nodeCapacity - node.running;
      if (free <= 0) return;
      node.claiming = true;
      node.parked = false;
      try {
        const { packages, hostsReadyAt } = await claimPackages(store, node.id, free, clock.now());
        counts.claims += 1;
        if (packages.length === 0) counts.emptyClaims += 1;
        for (const pkg of packages) {
          node.running += 1;
          clock.after(PARENT_RTT_MS, () => runPackage(node, pkg));
        }
        if (packages.length === 0) {
          // A long-poll that found nothing waits for a wake or its timeout, then asks again; as the parent's claimer
          // does, it looks again sooner when work is held back only until a host's interval or pause ends.
          node.parked = true;
          const token = ++node.pollToken;
          const wait =
            hostsReadyAt === undefined
              ? CLAIM_WAIT_MS
              : Math.min(CLAIM_WAIT_MS, Math.max(MIN_HOST_WAIT_MS, hostsReadyAt - clock.now()));
          clock.after(wait, () => (node.parked && node.pollToken === token ? claimFor(node) : undefined));
        }
      } finally {
        node.claiming = false;
      }
    };

    const runPackage = async (node: SimNode, pkg: TaskPackage): Promise<void> => {
      const actor = { nodeId: node.id, attempt: pkg.attempt };
      try {
        await store.allocations.start(pkg.allocation_id, actor, clock.now());
      } catch (error) {
        if (isRefusal(error)) return release(node);
        throw error;
      }
      const results: ReportedResult[] = [];
      let pendingFeeds = pkg.feeds.length;
      const finish = async () => {
        try {
          if (results.every((r) => r.status === 'failed')) {
            await store.allocations.fail(
              pkg.allocation_id,
              actor,
              results.map((r) => `${r.mp_id}: ${r.error}`).join('; '),
              clock.now(),
              true,
            );
            counts.failed += 1;
          } else {
            const articleCount = results.reduce((n, r) => n + r.article_count, 0);
            await store.allocations.complete(pkg.allocation_id, actor, results, articleCount, clock.now());
            counts.completed += 1;
          }
          // What the child routes do after an accepted report that carries Retry-After: pause those hosts fleet-wide.
          const retryAfter = results.flatMap((r) =>
            r.retry_after_seconds === undefined ? [] : [{ feedId: r.mp_id, seconds: r.retry_after_seconds }],
          );
          if (retryAfter.length > 0)
            await hostsOf(store)?.pause(
              retryAfter,
              `Retry-After reported for allocation ${pkg.allocation_id}`,
              clock.now(),
            );
        } catch (error) {
          if (!isRefusal(error)) throw error;
        }
        release(node);
      };
      for (const feed of pkg.feeds) {
        const index = feedIndex.get(feed.id) as number;
        let waits = 0;
        const attemptFetch = () => {
          counts.fetches += 1;
          const answer = corpus.fetch(index, { etag: feed.etag }, clock.now());
          clock.after(FETCH_MIN_MS + Math.floor(latency() * FETCH_SPREAD_MS), async () => {
            if (answer.status === 429) {
              counts.rateLimited += 1;
              const verdict = decideRetryAfter(
                answer.retryAfterSeconds * 1000,
                waits,
                {
                  maxWaitMs: RETRY_AFTER_MAX_MS,
                  reserveMs: FETCH_TIMEOUT_MS,
                  leaseExpiresAtMs: pkg.lease_expires_at ? Date.parse(pkg.lease_expires_at) : undefined,
                },
                clock.now(),
              );
              if (verdict.wait) {
                waits += 1;
                clock.after(verdict.waitMs, attemptFetch);
                return;
              }
              const failed: ReportedResult = {
                mp_id: feed.id,
                status: 'failed',
                article_count: 0,
                error: `HTTP 429 Too Many Requests; ${verdict.reason}`,
              };
              if (arm.childReports.retryAfter) failed.retry_after_seconds = answer.retryAfterSeconds;
              results.push(failed);
            } else {
              if (answer.status === 304) counts.notModified += 1;
              else counts.ok += 1;
              const articles: ArticleInput[] =
                answer.status === 200
                  ? answer.articles.map((a) => ({
                      id: a.id,
                      mp_id: feed.id,
                      title: a.id,
                      url: `${feed.url}#${a.id}`,
                      publish_time: Math.floor(a.publishedAt / 1000),
                    }))
                  : [];
              let newCount = 0;
              if (articles.length > 0)
                newCount = (await store.articles.upload(pkg.allocation_id, actor, articles, clock.now())).new_count;
              // Like the real child: a 304 reports no validators, so the parent keeps the ones it sent.
              const validators = answer.status === 200 ? { etag: answer.etag, last_modified: null } : {};
              const success: ReportedResult = {
                mp_id: feed.id,
                status: 'success',
                article_count: articles.length,
                new_article_count: newCount,
                ...validators,
              };
              const hints = arm.childReports.hints ? refreshHintsOf(answer.hints, answer.status) : undefined;
              if (hints) success.refresh_hints = hints;
              results.push(success);
            }
            pendingFeeds -= 1;
            if (pendingFeeds === 0) clock.after(PARENT_RTT_MS, finish);
          });
        };
        attemptFetch();
      }
    };

    const release = (node: SimNode) => {
      node.running -= 1;
      clock.after(PARENT_RTT_MS, () => claimFor(node));
    };

    for (let t = corpus.startMs; t < corpus.endMs; t += arm.dispatchEveryMs) {
      clock.at(t, async () => {
        const request: DispatchRequest = {
          taskId,
          trigger: 'cron',
          tick: { scheduledAtMs: clock.now() },
          force: arm.force,
        };
        const summary = await dispatcher.run(request);
        if (summary.allocations_created > 0) counts.dispatches += 1;
      });
    }
    for (let t = corpus.startMs; t < corpus.endMs; t += config.dispatch.sweep_interval_seconds * 1000)
      clock.at(t, () => sweeper.sweepOnce(clock.now()).then(() => undefined));
    nodes.forEach((node, i) => {
      // Heartbeats spread over the period, as independent children's would be.
      for (
        let t = corpus.startMs + Math.floor((i * HEARTBEAT_EVERY_MS) / nodes.length);
        t < corpus.endMs;
        t += HEARTBEAT_EVERY_MS
      ) {
        clock.at(t, async () => {
          await store.nodes.recordHeartbeat(node.id, {}, clock.now());
          await store.allocations.extendLeases(node.id, clock.now());
        });
      }
      clock.at(corpus.startMs, () => claimFor(node));
    });

    for (let hour = 1; hour < settings.hours; hour += 1) {
      clock.at(corpus.startMs + hour * 3_600_000, () =>
        clock.onRealClock(() =>
          log(
            `crawl ${arm.name}: simulated hour ${hour} of ${settings.hours}, ${counts.fetches} fetches so far, ${((performance.now() - wallStarted) / 1000).toFixed(0)} s`,
          ),
        ),
      );
    }
    const simEvents = await clock.runUntil(corpus.endMs);
    const delays = await collectionDelays(store, corpus, feedIds);
    return {
      arm: arm.name,
      fetches: counts.fetches,
      ok: counts.ok,
      notModified: counts.notModified,
      rateLimited: counts.rateLimited,
      dispatches: counts.dispatches,
      allocationsCompleted: counts.completed,
      allocationsFailed: counts.failed,
      claims: counts.claims,
      emptyClaims: counts.emptyClaims,
      articlesOwed: delays.owed,
      articlesCollected: delays.collected,
      delayP50Ms: percentile(delays.delays, 50),
      delayP95Ms: percentile(delays.delays, 95),
      delayMaxMs: delays.delays.length > 0 ? Math.max(...delays.delays) : Number.NaN,
      simEvents,
      wallSeconds: (performance.now() - wallStarted) / 1000,
    };
  } finally {
    await store.close();
  }
}

/**
 * Fields issue 17 adds to the wire, written so that this file builds with and without them (the bench runs on
 * builds before and after the features): a feed result's hints and Retry-After, a dispatch's `force`, and the
 * store's fleet-wide host pauses. The fixed-cron arm never sends the first two; on a build without due times the
 * dispatcher ignores `force` (it dispatches every feed anyway).
 */
type ReportedResult = FeedResult & { refresh_hints?: RefreshHintsReport; retry_after_seconds?: number };
type DispatchRequest = Parameters<Dispatcher['run']>[0] & { force?: boolean };
type HostPauses = {
  pause(reports: ReadonlyArray<{ feedId: string; seconds: number }>, reason: string, nowMs?: number): Promise<unknown>;
};

function hostsOf(store: Store): HostPauses | undefined {
  return (store as Store & { hosts?: HostPauses }).hosts;
}

/**
 * What the parent's claimer does for one look: a lost race between claimers is retried. `hostsReadyAt`: when work
 * held back by per-host politeness may be handed out (a build without politeness never sets it).
 */
async function claimPackages(
  store: Store,
  nodeId: string,
  max: number,
  nowMs: number,
): Promise<{ packages: TaskPackage[]; hostsReadyAt: number | undefined }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const claimed: { packages: TaskPackage[]; hostsReadyAt?: number | undefined } =
        await store.allocations.claimPackages(nodeId, max, nowMs);
      return { packages: claimed.packages, hostsReadyAt: claimed.hostsReadyAt };
    } catch (error) {
      if (!(error instanceof CascadeError && error.code === 'CONFLICT') || attempt >= 5) throw error;
    }
  }
}

/** A move the parent refused because the node lost the work (lease gone, another attempt): the child drops it. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof CascadeError &&
    (error.code === 'LEASE_LOST' || error.code === 'INVALID_TRANSITION' || error.code === 'NOT_FOUND')
  );
}

/** Publication → collection delay of every owed article, collection being the article's first store time. */
async function collectionDelays(
  store: Store,
  corpus: Corpus,
  feedIds: readonly string[],
): Promise<{ owed: number; collected: number; delays: number[] }> {
  const stored = new Map<string, number>();
  const rows = await databaseOf(store).selectFrom('articles').select(['mp_id', 'id', 'created_at']).execute();
  for (const row of rows) stored.set(`${row.mp_id}\u0000${row.id}`, Number(row.created_at));
  const cutoff = collectionCutoffMs(corpus);
  const owed = corpus.publishedInWindow().filter((a) => a.publishedAt <= cutoff);
  const delays: number[] = [];
  let collected = 0;
  for (const article of owed) {
    const at = stored.get(`${feedIds[article.feedIndex]}\u0000${article.id}`);
    if (at !== undefined) collected += 1;
    delays.push((at ?? corpus.endMs) - article.publishedAt);
  }
  return { owed: owed.length, collected, delays };
}
