import { Type, type Static } from '@sinclair/typebox';
import {
  AllocationId,
  ArticleCount,
  ChildTimestamp,
  closed,
  FeedId,
  HttpUrl,
  IsoTimestamp,
  UnixSeconds,
} from './wire-primitives.js';

/**
 * What a child sends the parent (docs/protocol.md §3.2), as the parent's child routes check it after
 * src/parent/routes/child/child-input.ts has normalised it. The child imports only the erased types, so an idle
 * child loads no TypeBox.
 */

/** One allocation's progress in a heartbeat (Cascade child only): counters for the attempt the child runs. */
export const AllocationProgress = closed({
  allocation_id: AllocationId,
  feeds_done: Type.Integer({
    minimum: 0,
    maximum: 1000000,
    description: 'Feeds of the allocation whose fetch has ended (succeeded or failed).',
  }),
  bytes_read: Type.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Response body bytes read from the feeds so far.',
  }),
});
export type AllocationProgress = Static<typeof AllocationProgress>;

export const HeartbeatBody = Type.Union([
  closed({
    callback_url: Type.Optional(Type.Union([HttpUrl, Type.Null()])),
    current_tasks: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    version: Type.Optional(Type.String({ maxLength: 100 })),
    hostname: Type.Optional(Type.String({ maxLength: 255 })),
    outbox_depth: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100000000,
        description: "Calls waiting in the child's outbox (Cascade child only).",
      }),
    ),
    // Cascade's child: what it holds (in flight or with reports still queued) and how often it beats. The original
    // child sends neither; then every lease it holds is renewed and its liveness follows offline_after_seconds.
    held_allocation_ids: Type.Optional(
      Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10000 }), Type.Null()]),
    ),
    heartbeat_interval_s: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3600 }), Type.Null()])),
    // Cascade's child: how far each allocation it runs has got. The parent restarts an allocation's stall clock when
    // the numbers change (dispatch.stall_seconds); the original child sends none, and its allocations are not judged.
    progress: Type.Optional(Type.Union([Type.Array(AllocationProgress, { maxItems: 10000 }), Type.Null()])),
    timestamp: ChildTimestamp,
  }),
  Type.Null(),
]);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

export const ClaimQuery = closed({
  wait: Type.Number({ minimum: 0, maximum: 60, default: 0, description: 'Seconds to wait for work (long-poll).' }),
  max: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Most packages to return.' }),
});
export type ClaimQuery = Static<typeof ClaimQuery>;

export const PendingTasksQuery = closed({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
  wait: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })),
});
export type PendingTasksQuery = Static<typeof PendingTasksQuery>;

/** The package's `attempt`: optional (the original child does not send it); a report about an older attempt gets 409. */
const Attempt = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 1000000,
    description: 'The attempt this report is about (from the task package).',
  }),
);

/**
 * A failed feed whose host answered `429` or `503` with `Retry-After` (Cascade child only): the wait it asked for, in
 * seconds. The parent holds the host back for the whole fleet that long (within `politeness.max_pause_seconds`).
 */
const RetryAfterSeconds = Type.Integer({
  minimum: 0,
  maximum: 31_536_000,
  description:
    'The Retry-After its host sent with 429/503, in seconds (Cascade child only); the parent pauses the host fleet-wide.',
});

export const TaskStatusBody = closed({
  allocation_id: AllocationId,
  attempt: Attempt,
  status: Type.Union([Type.Literal('executing'), Type.Literal('failed'), Type.Literal('completed')], {
    description: '`completed` is a completion without per-feed results (the original child documents it).',
  }),
  error_message: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  retryable: Type.Optional(
    Type.Boolean({
      description:
        'With `failed`: `false` when retrying cannot help (404, 410, not a feed, a refused address); the allocation fails at once instead of being retried. Default `true`.',
    }),
  ),
  retry_after: Type.Optional(
    Type.Array(closed({ mp_id: FeedId, retry_after_seconds: RetryAfterSeconds }), {
      maxItems: 10000,
      description:
        'With `failed`: feeds whose host answered 429/503 with Retry-After (Cascade child only); the parent pauses those hosts fleet-wide.',
    }),
  ),
  timestamp: ChildTimestamp,
});
export type TaskStatusBody = Static<typeof TaskStatusBody>;

/** An article as a child uploads it (the parent fills in created_at/updated_at). */
export const Article = closed({
  id: Type.String({ minLength: 1, maxLength: 191 }),
  mp_id: FeedId,
  title: Type.Optional(Type.String({ maxLength: 1000 })),
  url: Type.Optional(Type.String({ maxLength: 2000 })),
  pic_url: Type.Optional(Type.String({ maxLength: 2000 })),
  description: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
  content_markdown: Type.Optional(Type.String()),
  publish_time: Type.Optional(UnixSeconds('When the article was published.')),
  ext: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'Extra fields of the source (the original child’s `ext`), stored as sent.',
    }),
  ),
});
export type Article = Static<typeof Article>;

/** Most articles in one upload; the body may also hold at most UPLOAD_BODY_LIMIT_BYTES. */
const UPLOAD_MAX_ARTICLES = 1000;
/** Upload accepts 2 MiB whatever the parent's global body limit. */
export const UPLOAD_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

export const UploadArticlesBody = closed({
  allocation_id: AllocationId,
  attempt: Attempt,
  articles: Type.Array(Article, { maxItems: UPLOAD_MAX_ARTICLES }),
  timestamp: ChildTimestamp,
});
export type UploadArticlesBody = Static<typeof UploadArticlesBody>;

/** Entries of a feed left out for being unusable (Cascade child only). */
const SkippedEntry = closed({ id: Type.String({ maxLength: 191 }), reason: Type.String({ maxLength: 500 }) });
export type SkippedEntry = Static<typeof SkippedEntry>;

const HintSeconds = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000, description }));

/**
 * What the feed said about its own rhythm (Cascade child only; the original child sends none, and then the parent
 * learns from the feed's history alone): docs/refresh.md. Absent fields: the feed did not say.
 */
export const RefreshHints = closed({
  max_age_seconds: HintSeconds('`Cache-Control: max-age` of the answer (a 304 too).'),
  ttl_seconds: HintSeconds('RSS `<ttl>`, converted from minutes.'),
  update_period_seconds: HintSeconds('`sy:updatePeriod` divided by `sy:updateFrequency`.'),
});
export type RefreshHints = Static<typeof RefreshHints>;

/** One feed's result in a completion report, in Cascade's form (child-input.ts turns the original's second form into this). */
export const FeedResult = closed({
  mp_id: FeedId,
  status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
  article_count: ArticleCount,
  new_article_count: Type.Optional(ArticleCount),
  error: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  // The validators the child got for this feed (null: the answer had none); stored with the accepted completion and
  // sent in the next package. The original child sends neither, and then the feed's stored validators stay.
  etag: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  last_modified: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  permanent: Type.Optional(
    Type.Boolean({ description: 'A failed feed whose failure retrying cannot fix (Cascade child only).' }),
  ),
  retry_after_seconds: Type.Optional(RetryAfterSeconds),
  refresh_hints: Type.Optional(RefreshHints),
  skipped: Type.Optional(
    Type.Array(SkippedEntry, {
      maxItems: 100,
      description:
        'Entries of the feed left out for being unusable (a NUL character, over the upload size); the rest was uploaded (Cascade child only).',
    }),
  ),
});
export type FeedResult = Static<typeof FeedResult>;

export const ReportCompletionBody = closed({
  allocation_id: AllocationId,
  attempt: Attempt,
  task_id: Type.String({ minLength: 1, maxLength: 191 }),
  results: Type.Array(FeedResult, { maxItems: 10000 }),
  article_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000 })),
  timestamp: ChildTimestamp,
});
export type ReportCompletionBody = Static<typeof ReportCompletionBody>;

/** The original child's legacy report: results are free-form per-feed objects, kept as they came. */
export const ReportResultBody = closed({
  task_id: Type.String({ minLength: 1, maxLength: 191 }),
  results: Type.Array(Type.Unknown(), { maxItems: 100000, description: 'Per-feed results, stored as sent.' }),
  timestamp: Type.Optional(IsoTimestamp),
});
export type ReportResultBody = Static<typeof ReportResultBody>;
