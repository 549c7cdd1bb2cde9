import type { Article } from '../executors/types.js';

export type SkippedArticle = { id: string; reason: string };

/** At most this many skipped entries are named in a report (the parent takes 100); the log names every one. */
export const MAX_SKIPPED_REPORTED = 100;

/**
 * Leaves out the entries the parent could never store, so that one bad entry does not fail its whole feed: a NUL
 * character (PostgreSQL text refuses it) or an entry larger than one upload request (`maxBytes`).
 */
export function screenArticles(
  articles: readonly Article[],
  maxBytes: number,
): { kept: Article[]; skipped: SkippedArticle[] } {
  const kept: Article[] = [];
  const skipped: SkippedArticle[] = [];
  for (const article of articles) {
    const reason = unusableReason(article, maxBytes);
    if (reason) skipped.push({ id: String(article.id).slice(0, 191), reason });
    else kept.push(article);
  }
  return { kept, skipped };
}

function unusableReason(article: Article, maxBytes: number): string | undefined {
  const nulIn = Object.entries(article).find(([, value]) => typeof value === 'string' && value.includes('\0'));
  if (nulIn) return `contains a NUL character in ${nulIn[0]}`;
  const bytes = Buffer.byteLength(JSON.stringify(article));
  if (bytes > maxBytes) return `larger than one upload (${bytes} bytes, limit ${maxBytes})`;
  return undefined;
}
