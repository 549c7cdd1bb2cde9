/**
 * An example custom executor: wraps the built-in feed executor and keeps only the entries whose title contains
 * one of the task's keywords (taken from the task's `message_template`, comma-separated; empty keeps all).
 *
 * Use it with `executor: ./examples/executors/example-executor.ts` (under tsx) or point at a compiled `.js` file.
 * An executor is one function `(feed, task, context) => Promise<Article[]>`; throw to mark the feed failed.
 */
import { feedExecutor } from '../../src/executors/feed.js';
import type { Article, Executor } from '../../src/executors/types.js';

const keywordExecutor: Executor = async (feed, task, context) => {
  const keywords = (task.message_template ?? '')
    .split(',')
    .map((k) => k.trim().toLowerCase())
    .filter(Boolean);
  const articles: Article[] = await feedExecutor(feed, task, context);
  const kept =
    keywords.length === 0 ? articles : articles.filter((a) => keywords.some((k) => a.title.toLowerCase().includes(k)));
  context.logger.info({ feed_id: feed.id, fetched: articles.length, kept: kept.length }, 'keyword filter applied');
  return kept;
};

export default keywordExecutor;
