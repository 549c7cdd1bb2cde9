import type { Logger } from 'pino';
import type { Article as UploadedArticle } from '../protocol/child-requests.js';
import type { ReceivedPackageFeed, ReceivedTaskPackage } from '../protocol/parent-messages.js';

/**
 * A feed and a package as an executor gets them (docs/protocol.md §3.2): the wire shapes of src/protocol/, read
 * liberally, since the original parent omits fields and sends headers and cookies as JSON text.
 */
export type PackageFeed = ReceivedPackageFeed;
export type TaskPackage = ReceivedTaskPackage;

/**
 * An article as an executor returns it: the upload's wire shape (docs/protocol.md §2, §3.2) with every text field
 * filled in (the parent fills in created_at/updated_at). `ext` is the original child's; Cascade's executors send none.
 */
export type Article = Required<Omit<UploadedArticle, 'ext'>>;

/** Validators remembered per feed for conditional GET. */
export type HttpValidators = { etag?: string | undefined; lastModified?: string | undefined };

/**
 * Conditional-GET validators of one allocation's feeds: `get` answers what the parent sent in the package, `set`
 * records what the executor got, which the child reports with the feed's result. Nothing is kept between runs:
 * the parent stores validators only with a completion it accepted, so a refused upload never hides articles
 * behind a 304.
 */
export type ValidatorCache = {
  get(feedId: string): HttpValidators | undefined;
  set(feedId: string, validators: HttpValidators): void;
};

/** What a feed said about its own rhythm, in seconds (docs/refresh.md); the child reports it with the feed's result. */
export type FeedRefreshHints = {
  maxAgeSeconds?: number | undefined;
  ttlSeconds?: number | undefined;
  updatePeriodSeconds?: number | undefined;
};

export type ExecutorContext = {
  logger: Logger;
  /** Aborted when the child shuts down past its grace period or the allocation's lease is lost. */
  signal: AbortSignal;
  fetch: typeof fetch;
  /** Optional: present in the child, absent when an executor is called on its own. */
  validators?: ValidatorCache;
  /** Optional: where an executor records what the feed said about its rhythm (absent when called on its own). */
  refreshHints?: { set(feedId: string, hints: FeedRefreshHints): void };
};

/**
 * One function per source kind: fetch one feed of a task and return its articles. Throw to mark the feed failed;
 * the error's message becomes the feed's `error` in the completion report.
 */
export type Executor = (feed: PackageFeed, task: TaskPackage, context: ExecutorContext) => Promise<Article[]>;

/** An executor failure that retrying cannot fix (not a feed, 404, body too large); the message is the reason. */
export class PermanentFeedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentFeedError';
  }
}

/**
 * A refusal for now that says when to ask again (429 or 503 with `Retry-After`). The child waits that long and
 * fetches again within the same attempt when the wait fits its budget (`cascade.retry_after_max_seconds` and the
 * lease); otherwise the feed fails for now with this reason and the parent retries it. Any executor may throw it.
 */
export class RetryLaterError extends Error {
  /** How long the server asked to wait, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
    this.retryAfterMs = retryAfterMs;
  }
}
