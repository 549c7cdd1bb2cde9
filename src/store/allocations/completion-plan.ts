import type { AllocationTable } from '../tables.js';

export type FeedResult = { mp_id: string; status: 'success' | 'failed'; article_count: number; new_article_count?: number | undefined; error?: string | null | undefined };

/** What a completion report writes, worked out from the report alone (both completion paths apply it). */
export type CompletionPlan = {
  /** The allocation's new values, except status and new_article_count. */
  values: Partial<AllocationTable>;
  /** The reported new-article total, or undefined when no result reported one (the stored count stays). */
  newArticleCount: number | undefined;
  articleCount: number;
  results: readonly FeedResult[];
  reportedFeedIds: string[];
  succeededFeedIds: string[];
  /** The sync log's status: 2 when every reported feed failed, else 1. */
  syncLogStatus: 1 | 2;
};

export function planCompletion(results: readonly FeedResult[], reportedArticleCount: number, nowMs: number): CompletionPlan {
  const articleCount = results.length > 0 ? results.reduce((n, r) => n + r.article_count, 0) : reportedArticleCount;
  const reportedNew = results.some((r) => r.new_article_count !== undefined);
  const failed = results.filter((r) => r.status === 'failed');
  return {
    values: {
      completed_at: nowMs,
      lease_expires_at: null,
      article_count: articleCount,
      result_summary: JSON.stringify({ results, failed_feeds: failed.length, succeeded_feeds: results.length - failed.length }),
      error_message: failed.length > 0 ? failed.map((f) => `${f.mp_id}: ${f.error ?? 'failed'}`).join('; ').slice(0, 4000) : null,
      updated_at: nowMs,
    },
    newArticleCount: reportedNew ? results.reduce((n, r) => n + (r.new_article_count ?? 0), 0) : undefined,
    articleCount,
    results,
    reportedFeedIds: results.map((r) => r.mp_id),
    succeededFeedIds: results.filter((r) => r.status === 'success').map((r) => r.mp_id),
    syncLogStatus: failed.length === results.length && results.length > 0 ? 2 : 1,
  };
}
