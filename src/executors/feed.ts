import { DEFAULT_FETCH_LIMITS, fetchWithLimits, taskRequestHeaders, type FetchLimits } from './http-fetch.js';
import type * as FeedParse from './feed-parse.js';
import { PermanentFeedError, type Executor } from './types.js';

type FeedParser = typeof FeedParse;
let parser: Promise<FeedParser> | undefined;

/**
 * The parser (feedsmith with its XML parser and entity tables, ~10 MB resident) loads with the first feed body
 * rather than with the child: a child that is waiting for work does not need it (docs/benchmarks.md, scenario 7).
 */
function loadFeedParser(): Promise<FeedParser> {
  parser ??= import('./feed-parse.js');
  return parser;
}

/**
 * The default executor: fetch the feed's `url` with the task's headers and cookies (conditional GET with the
 * validators the package carries), parse it, and return its entries as articles. A 304 is success with no articles.
 */
export function createFeedExecutor(limits: FetchLimits = DEFAULT_FETCH_LIMITS): Executor {
  return async (feed, task, context) => {
    if (!/^https?:\/\//i.test(feed.url ?? ''))
      throw new PermanentFeedError(`feed ${feed.id} has no http(s) url (got ${JSON.stringify(feed.url ?? '')})`);
    const outcome = await fetchWithLimits({
      url: feed.url,
      headers: taskRequestHeaders(task.headers, task.cookies),
      validators: context.validators?.get(feed.id),
      signal: context.signal,
      fetch: context.fetch,
      limits,
    });
    if (outcome.kind === 'not-modified') {
      // At info, next to the allocation's "0 articles": an unchanged feed must not look like a silent loss.
      context.logger.info({ feed_id: feed.id, url: feed.url }, 'feed not modified (304): no new articles');
      context.refreshHints?.set(feed.id, { maxAgeSeconds: outcome.maxAgeSeconds });
      return [];
    }
    const { parseFeedDocument } = await loadFeedParser();
    const { articles, rhythm } = parseFeedDocument(feed.id, outcome.body, outcome.contentType);
    // What the feed says about its rhythm travels with its result; the parent learns from it (docs/refresh.md).
    context.refreshHints?.set(feed.id, { maxAgeSeconds: outcome.maxAgeSeconds, ...rhythm });
    // Report validators only after a successful parse, so a broken answer is fetched in full next time; an answer
    // without any reports that too, so the parent drops validators the server no longer honours.
    context.validators?.set(feed.id, outcome.validators);
    return articles;
  };
}

export const feedExecutor: Executor = createFeedExecutor();
