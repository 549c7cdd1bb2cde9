import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type {
  FeedResult,
  RefreshHints,
  ReportCompletionBody,
  TaskStatusBody,
  UploadArticlesBody,
} from '../protocol/child-requests.js';
import {
  PermanentFeedError,
  RetryLaterError,
  type Article,
  type Executor,
  type ExecutorContext,
  type FeedRefreshHints,
  type HttpValidators,
  type PackageFeed,
  type TaskPackage,
  type ValidatorCache,
} from '../executors/types.js';
import type { GuardedFetch } from '../net/guarded-fetch.js';
import { MAX_SKIPPED_REPORTED, screenArticles, type SkippedArticle } from './article-screen.js';
import type { Delivery } from './delivery.js';
import { describe } from './parent-client.js';
import { decideRetryAfter, type RetryAfterBudget } from './retry-after-policy.js';
import type { ProgressCounter } from './allocation-progress.js';
import type { Semaphore } from './semaphore.js';
import type { UploadAnswer } from '../protocol/parent-messages.js';

/** Upload limits: the parent takes ≤ 1,000 articles and 2 MiB per request (upload-articles); stay well under both. */
const UPLOAD_MAX_ARTICLES = 500;
const UPLOAD_MAX_BYTES = 900 * 1024;

type FeedRun = {
  feed: PackageFeed;
  articles: Article[];
  error?: string;
  permanent?: true;
  skipped: SkippedArticle[];
  retryAfterMs?: number;
};

export type AllocationOutcome = {
  allocationId: string;
  /** completed / failed: reported (or queued in the outbox); dropped: the parent no longer holds it for us. */
  outcome: 'completed' | 'failed' | 'dropped';
  results: FeedResult[];
};

export type RunAllocationDeps = {
  delivery: Delivery;
  executor: Executor;
  feedSlots: Semaphore;
  logger: Logger;
  /** Aborts the executors (grace period over); feeds still running are reported failed as interrupted. */
  signal: AbortSignal;
  /** The executors' `fetch`: every connection checked by the network policy. */
  fetch: GuardedFetch;
  /** How long a feed's `Retry-After` may be waited out within the attempt (the lease comes from the package). */
  retryAfter: Omit<RetryAfterBudget, 'leaseExpiresAtMs'>;
  /** Counts feeds done and bytes read for the heartbeat; optional for callers that report no progress. */
  progress?: ProgressCounter;
};

const now = (): string => new Date().toISOString();

/** One allocation from claim to report: executing → executor per feed → upload in batches → completion. */
export async function runAllocation(pkg: TaskPackage, deps: RunAllocationDeps): Promise<AllocationOutcome> {
  const log = deps.logger.child({ allocation_id: pkg.allocation_id, task_id: pkg.task_id });
  const allocationId = pkg.allocation_id;
  const dropped = (results: FeedResult[] = []): AllocationOutcome => ({ allocationId, outcome: 'dropped', results });

  const started = await deps.delivery.send({
    method: 'PUT',
    path: '/task-status',
    allocationId,
    body: {
      allocation_id: allocationId,
      attempt: pkg.attempt,
      status: 'executing',
      timestamp: now(),
    } satisfies TaskStatusBody,
  });
  if (started.kind === 'rejected') return dropped();
  log.info({ feeds: pkg.feeds.length }, 'allocation executing');

  const validators = packageValidators(pkg);
  const { progress } = deps;
  const counted: RunAllocationDeps = progress ? { ...deps, fetch: progress.countingFetch(deps.fetch) } : deps;
  const hints = new Map<string, FeedRefreshHints>();
  const refreshHints = { set: (feedId: string, declared: FeedRefreshHints) => void hints.set(feedId, declared) };
  const fetched = await Promise.all(
    pkg.feeds.map(async (feed) => {
      const run = await fetchFeed(feed, pkg, { validators, refreshHints }, counted, log);
      if (progress) progress.feedsDone += 1;
      return run;
    }),
  );
  const results: FeedResult[] = [];
  for (const { feed, articles, error, permanent, skipped, retryAfterMs } of fetched) {
    if (error !== undefined) {
      const retryAfter = retryAfterMs === undefined ? {} : { retry_after_seconds: Math.ceil(retryAfterMs / 1000) };
      results.push({
        mp_id: feed.id,
        status: 'failed',
        article_count: 0,
        error,
        ...(permanent ? { permanent } : {}),
        ...retryAfter,
      });
      continue;
    }
    const uploaded = await uploadArticles(allocationId, pkg.attempt, articles, deps.delivery);
    if (uploaded === 'lease-gone') return dropped(results);
    if ('error' in uploaded) {
      results.push({ mp_id: feed.id, status: 'failed', article_count: 0, error: uploaded.error });
      continue;
    }
    const got = validators.fetched.get(feed.id);
    results.push({
      mp_id: feed.id,
      status: 'success',
      article_count: articles.length,
      ...(uploaded.newCount === undefined ? {} : { new_article_count: uploaded.newCount }),
      ...(got ? { etag: got.etag ?? null, last_modified: got.lastModified ?? null } : {}),
      ...(skipped.length > 0 ? { skipped: skipped.slice(0, MAX_SKIPPED_REPORTED) } : {}),
      ...refreshHintsField(hints.get(feed.id)),
    });
  }

  const articleCount = results.reduce((sum, r) => sum + r.article_count, 0);
  const allFailed = results.length > 0 && results.every((r) => r.status === 'failed');
  if (allFailed) {
    const errorMessage = results
      .map((r) => `${r.mp_id}: ${r.error}`)
      .join('; ')
      .slice(0, 2000);
    // Only when no feed could succeed on a retry does the parent fail the allocation at once.
    const retryable = !results.every((r) => r.permanent);
    const retryAfter = results.flatMap((r) =>
      r.retry_after_seconds === undefined ? [] : [{ mp_id: r.mp_id, retry_after_seconds: r.retry_after_seconds }],
    );
    const body = {
      allocation_id: allocationId,
      attempt: pkg.attempt,
      status: 'failed',
      error_message: errorMessage,
      ...(retryable ? {} : { retryable }),
      ...(retryAfter.length > 0 ? { retry_after: retryAfter } : {}),
      timestamp: now(),
    } satisfies TaskStatusBody;
    const sent = await deps.delivery.send({ method: 'PUT', path: '/task-status', allocationId, body });
    if (sent.kind === 'rejected') return dropped(results);
    log.warn({ error_message: errorMessage, retryable }, 'allocation failed: every feed failed');
    return { allocationId, outcome: 'failed', results };
  }
  const report = {
    allocation_id: allocationId,
    attempt: pkg.attempt,
    task_id: pkg.task_id,
    results,
    article_count: articleCount,
    timestamp: now(),
  } satisfies ReportCompletionBody;
  const sent = await deps.delivery.send({ method: 'POST', path: '/report-completion', allocationId, body: report });
  if (sent.kind === 'rejected') return dropped(results);
  log.info(
    {
      articles: articleCount,
      failed_feeds: results.filter((r) => r.status === 'failed').length,
      queued: sent.kind === 'queued',
    },
    'allocation completed',
  );
  return { allocationId, outcome: 'completed', results };
}

/**
 * The package's validators for the executor, and what it fetched. A 304 sets nothing, so the feed's result
 * carries no validators and the parent keeps the ones it sent.
 */
function packageValidators(pkg: TaskPackage): ValidatorCache & { fetched: Map<string, HttpValidators> } {
  const sent = new Map(
    pkg.feeds.map((feed) => [feed.id, { etag: feed.etag ?? undefined, lastModified: feed.last_modified ?? undefined }]),
  );
  const fetched = new Map<string, HttpValidators>();
  return {
    fetched,
    get: (feedId) => sent.get(feedId),
    set: (feedId, validators) => void fetched.set(feedId, validators),
  };
}

/**
 * One feed in a feed slot. A server that answers "retry after N s" (RetryLaterError) is asked again after N s when
 * that fits the budget (decideRetryAfter), waiting outside the slot so other feeds run meanwhile; otherwise the
 * feed fails for now, with the reason, and the parent retries it on its backoff.
 */
async function fetchFeed(
  feed: PackageFeed,
  pkg: TaskPackage,
  recorders: Recorders,
  deps: RunAllocationDeps,
  log: Logger,
): Promise<FeedRun> {
  const leaseExpiresAtMs = pkg.lease_expires_at ? Date.parse(pkg.lease_expires_at) : NaN;
  const budget: RetryAfterBudget = {
    ...deps.retryAfter,
    leaseExpiresAtMs: Number.isNaN(leaseExpiresAtMs) ? undefined : leaseExpiresAtMs,
  };
  for (let waits = 0; ; waits++) {
    const { retryAfterMs, ...run } = await deps.feedSlots.run(() => runFeed(feed, pkg, recorders, deps, log));
    if (retryAfterMs === undefined) return run;
    const verdict = decideRetryAfter(retryAfterMs, waits, budget, Date.now());
    if (!verdict.wait) {
      log.warn(
        { feed_id: feed.id, reason: run.error, retry_after_ms: retryAfterMs, not_waiting: verdict.reason },
        'feed asked to retry later: left to the parent',
      );
      // The parent pauses the host for the whole fleet (politeness), so no other node asks it before then either.
      return { ...run, error: `${run.error}; ${verdict.reason}`, retryAfterMs };
    }
    log.info(
      { feed_id: feed.id, reason: run.error, wait_ms: verdict.waitMs },
      'feed asked to retry later: waiting as asked',
    );
    try {
      await sleep(verdict.waitMs, undefined, { signal: deps.signal });
    } catch {
      return {
        ...run,
        error: `interrupted: the child shut down while waiting ${Math.ceil(verdict.waitMs / 1000)} s as the feed asked (${run.error})`,
      };
    }
  }
}

async function runFeed(
  feed: PackageFeed,
  pkg: TaskPackage,
  { validators, refreshHints }: Recorders,
  deps: RunAllocationDeps,
  log: Logger,
): Promise<FeedRun> {
  if (deps.signal.aborted)
    return { feed, articles: [], error: 'interrupted: the child shut down before this feed ran', skipped: [] };
  try {
    const articles = await deps.executor(feed, pkg, {
      logger: log.child({ feed_id: feed.id }),
      signal: deps.signal,
      fetch: deps.fetch,
      validators,
      refreshHints,
    });
    if (!Array.isArray(articles)) throw new Error('executor did not return an array of articles');
    // The parent checks mp_id against the allocation; an executor that forgets it should not fail the upload.
    const unique = new Map(articles.map((a) => [a.id, { ...a, mp_id: feed.id }]));
    const { kept, skipped } = screenArticles([...unique.values()], UPLOAD_MAX_BYTES);
    for (const entry of skipped)
      log.warn({ feed_id: feed.id, article_id: entry.id, reason: entry.reason }, 'entry skipped');
    return { feed, articles: kept, skipped };
  } catch (error) {
    const interrupted = deps.signal.aborted;
    const reason = interrupted ? 'interrupted: the child shut down while fetching this feed' : describe(error);
    // By name too: a custom executor may bring its own copy of the class (src/ or dist/, another install).
    const permanent =
      !interrupted &&
      (error instanceof PermanentFeedError || (error instanceof Error && error.name === 'PermanentFeedError'));
    const retryAfterMs = interrupted ? undefined : retryAfterOf(error);
    if (retryAfterMs !== undefined) return { feed, articles: [], error: reason, retryAfterMs, skipped: [] };
    log.warn({ feed_id: feed.id, reason, permanent }, 'feed failed');
    return { feed, articles: [], error: reason, ...(permanent ? { permanent: true as const } : {}), skipped: [] };
  }
}

/** What the executor records per feed besides its articles: validators and the feed's declared rhythm. */
type Recorders = { validators: ValidatorCache; refreshHints: NonNullable<ExecutorContext['refreshHints']> };

/**
 * The result's `refresh_hints` (docs/refresh.md): only the hints the feed gave, as whole seconds within the wire's
 * range; nothing when it gave none, so the report stays as it was.
 */
export function refreshHintsField(hints: FeedRefreshHints | undefined): { refresh_hints?: RefreshHints } {
  if (!hints) return {};
  const wire: RefreshHints = {};
  const seconds = (value: number | undefined) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 1
      ? Math.min(Math.round(value), 315_360_000)
      : undefined;
  const maxAge = seconds(hints.maxAgeSeconds);
  const ttl = seconds(hints.ttlSeconds);
  const period = seconds(hints.updatePeriodSeconds);
  if (maxAge !== undefined) wire.max_age_seconds = maxAge;
  if (ttl !== undefined) wire.ttl_seconds = ttl;
  if (period !== undefined) wire.update_period_seconds = period;
  return Object.keys(wire).length === 0 ? {} : { refresh_hints: wire };
}

/** The wait a RetryLaterError asks for (by name too, like PermanentFeedError), else undefined. */
function retryAfterOf(error: unknown): number | undefined {
  const isRetryLater = error instanceof RetryLaterError || (error instanceof Error && error.name === 'RetryLaterError');
  const ms = isRetryLater ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Uploads in batches under both limits; returns the new-article count when every batch was answered. */
async function uploadArticles(
  allocationId: string,
  attempt: number | undefined,
  articles: Article[],
  delivery: Delivery,
): Promise<{ newCount: number | undefined } | { error: string } | 'lease-gone'> {
  let newCount: number | undefined = 0;
  for (const batch of batchArticles(articles)) {
    const sent = await delivery.send<UploadAnswer>({
      method: 'POST',
      path: '/upload-articles',
      allocationId,
      body: { allocation_id: allocationId, attempt, articles: batch, timestamp: now() } satisfies UploadArticlesBody,
    });
    if (sent.kind === 'rejected')
      return sent.error.leaseGone ? 'lease-gone' : { error: `parent rejected the articles: ${sent.error.message}` };
    newCount =
      sent.kind === 'delivered' && newCount !== undefined ? newCount + Number(sent.data?.new_count ?? 0) : undefined;
  }
  return { newCount };
}

function batchArticles(
  articles: Article[],
  maxArticles = UPLOAD_MAX_ARTICLES,
  maxBytes = UPLOAD_MAX_BYTES,
): Article[][] {
  const batches: Article[][] = [];
  let current: Article[] = [];
  let bytes = 0;
  for (const article of articles) {
    const size = Buffer.byteLength(JSON.stringify(article));
    if (current.length > 0 && (current.length >= maxArticles || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(article);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
