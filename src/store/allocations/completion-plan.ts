import type { FeedResult, RefreshHints } from '../../protocol/child-requests.js';
import type { AllocationTable } from '../tables.js';

/** One feed's result, as the child route checked it (docs/protocol.md §3.2; defined in src/protocol/). */
export type { FeedResult };

/** A feed's validators to store with an accepted completion: both replace what the feed held. */
export type FeedValidators = { id: string; etag: string | null; last_modified: string | null };

/** One reported feed's fetch: failed or not, the child's new-article count and the feed's declared rhythm, when sent. */
export type ReportedFetch = {
  id: string;
  failed: boolean;
  newArticleCount: number | undefined;
  hints: RefreshHints | undefined;
};

/** What a completion report writes, worked out from the report alone (both completion paths apply it). */
export type CompletionPlan = {
  /** The allocation's new values, except new_article_count and what the `complete` move owns (status, times, lease). */
  values: Partial<AllocationTable>;
  /** The reported new-article total, or undefined when no result reported one (the stored count stays). */
  newArticleCount: number | undefined;
  articleCount: number;
  results: readonly FeedResult[];
  reportedFeedIds: string[];
  succeededFeedIds: string[];
  /**
   * Validators of succeeded feeds whose result carried any, applied only with the completion they came in: a
   * refused or undelivered report never advances them, so the next run of the feed fetches what was not stored.
   */
  validators: FeedValidators[];
  /** Each reported feed's fetch as the rhythm learns from it (src/store/feed-rhythm.ts), in report order. */
  fetches: ReportedFetch[];
  /** The sync log's status: 2 when every reported feed failed, else 1. */
  syncLogStatus: 1 | 2;
};

export function planCompletion(results: readonly FeedResult[], reportedArticleCount: number): CompletionPlan {
  const articleCount = results.length > 0 ? results.reduce((n, r) => n + r.article_count, 0) : reportedArticleCount;
  const reportedNew = results.some((r) => r.new_article_count !== undefined);
  const failed = results.filter((r) => r.status === 'failed');
  const succeeded = results.filter((r) => r.status === 'success');
  // The stored summary and sync log keep the results without the validators (they live on the feed).
  const summaries = results.map(
    ({ etag: _etag, last_modified: _lastModified, refresh_hints: _hints, ...summary }) => summary,
  );
  return {
    values: {
      article_count: articleCount,
      result_summary: JSON.stringify({
        results: summaries,
        failed_feeds: failed.length,
        succeeded_feeds: results.length - failed.length,
      }),
      error_message:
        failed.length > 0
          ? failed
              .map((f) => `${f.mp_id}: ${f.error ?? 'failed'}`)
              .join('; ')
              .slice(0, 4000)
          : null,
    },
    newArticleCount: reportedNew ? results.reduce((n, r) => n + (r.new_article_count ?? 0), 0) : undefined,
    articleCount,
    results: summaries,
    reportedFeedIds: results.map((r) => r.mp_id),
    succeededFeedIds: succeeded.map((r) => r.mp_id),
    validators: succeeded
      .filter((r) => r.etag !== undefined || r.last_modified !== undefined)
      .map((r) => ({ id: r.mp_id, etag: r.etag ?? null, last_modified: r.last_modified ?? null })),
    fetches: results.map((r) => ({
      id: r.mp_id,
      failed: r.status === 'failed',
      newArticleCount: r.new_article_count,
      hints: r.refresh_hints,
    })),
    syncLogStatus: failed.length === results.length && results.length > 0 ? 2 : 1,
  };
}
