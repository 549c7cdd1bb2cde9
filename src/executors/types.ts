import type { Logger } from 'pino';

/** A feed as it arrives in a task package (PROTOCOL §3.2). */
export type PackageFeed = {
  id: string;
  faker_id?: string;
  mp_name?: string;
  mp_cover?: string;
  mp_intro?: string;
  url: string;
  status?: number;
  /** The validators of the feed's last completion the parent accepted (absent from older parents). */
  etag?: string | null;
  last_modified?: string | null;
};

/** What a claim returns: one allocation of one task, with the task's headers and cookies. */
export type TaskPackage = {
  allocation_id: string;
  task_id: string;
  task_name: string;
  message_type?: number;
  message_template?: string;
  web_hook_url?: string;
  cron_exp?: string;
  headers?: Record<string, string> | string | null;
  cookies?: Record<string, string> | string | null;
  feeds: PackageFeed[];
  dispatched_at?: string;
  attempt?: number;
  lease_expires_at?: string | null;
};

/** An article in the wire shape of PROTOCOL §2 (the parent fills in created_at/updated_at). */
export type Article = {
  id: string;
  mp_id: string;
  title: string;
  url: string;
  pic_url: string;
  description: string;
  content: string;
  content_markdown: string;
  /** Unix seconds. */
  publish_time: number;
};

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

export type ExecutorContext = {
  logger: Logger;
  /** Aborted when the child shuts down past its grace period or the allocation's lease is lost. */
  signal: AbortSignal;
  fetch: typeof fetch;
  /** Optional: present in the child, absent when an executor is called on its own. */
  validators?: ValidatorCache;
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
