import { DEFAULT_FETCH_LIMITS, fetchWithLimits, taskRequestHeaders, type FetchLimits } from './http-fetch.js';
import { parseFeedArticles } from './feed-parse.js';
import { PermanentFeedError, type Executor } from './types.js';

/**
 * The default executor: fetch the feed's `url` with the task's headers and cookies (conditional GET when the child
 * remembers validators), parse it, and return its entries as articles. A 304 is success with no articles.
 */
export function createFeedExecutor(limits: FetchLimits = DEFAULT_FETCH_LIMITS): Executor {
  return async (feed, task, context) => {
    if (!/^https?:\/\//i.test(feed.url ?? '')) throw new PermanentFeedError(`feed ${feed.id} has no http(s) url (got ${JSON.stringify(feed.url ?? '')})`);
    const outcome = await fetchWithLimits({
      url: feed.url,
      headers: taskRequestHeaders(task.headers, task.cookies),
      validators: context.validators?.get(feed.id),
      signal: context.signal,
      fetch: context.fetch,
      limits,
    });
    if (outcome.kind === 'not-modified') {
      context.logger.debug({ feed_id: feed.id }, 'feed not modified (304)');
      return [];
    }
    const articles = parseFeedArticles(feed.id, outcome.body, outcome.contentType);
    // Remember validators only after a successful parse, so a broken answer is fetched in full next time.
    if (outcome.validators.etag || outcome.validators.lastModified) context.validators?.set(feed.id, outcome.validators);
    return articles;
  };
}

export const feedExecutor: Executor = createFeedExecutor();
