import { createHash } from 'node:crypto';
import { Feed } from 'feed';

/** The formats a feed is served in, by file extension. */
export const FeedFormat = Object.freeze({ rss: 'rss', atom: 'atom', json: 'json' } as const);
export type FeedFormat = (typeof FeedFormat)[keyof typeof FeedFormat];

export const CONTENT_TYPES: Readonly<Record<FeedFormat, string>> = Object.freeze({
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
});

export type FeedArticle = {
  id: string;
  mp_id: string;
  title: string;
  url: string;
  description: string;
  content: string;
  pic_url: string;
  publish_time: number;
  updated_at: number;
};

export type FeedDocument = {
  title: string;
  description: string;
  selfUrl: string;
  link: string;
  articles: readonly FeedArticle[];
};

export type BuiltFeed = { body: string; etag: string; lastModifiedMs: number };

/**
 * Renders a feed with the `feed` library, which escapes titles, HTML content and URLs for each format. The body
 * depends only on the articles (the feed's `updated` is the newest article's, not the clock), so the ETag, a hash
 * of the body, is stable while nothing changes.
 */
export function buildFeed(doc: FeedDocument, format: FeedFormat): BuiltFeed {
  const lastModifiedMs = doc.articles.reduce((max, a) => Math.max(max, a.updated_at), 0);
  const feed = new Feed({
    id: doc.selfUrl,
    title: doc.title,
    description: doc.description,
    link: doc.link,
    updated: new Date(lastModifiedMs),
    generator: 'Cascade',
    feedLinks: { [format]: doc.selfUrl },
    copyright: '',
  });
  for (const article of doc.articles) {
    const date = new Date(article.publish_time > 0 ? article.publish_time * 1000 : article.updated_at);
    feed.addItem({
      title: article.title,
      id: article.id,
      guid: article.id,
      link: article.url,
      date,
      published: date,
      description: article.description || undefined,
      content: article.content || undefined,
      ...(article.pic_url ? { image: article.pic_url } : {}),
    });
  }
  const body = format === 'rss' ? feed.rss2() : format === 'atom' ? feed.atom1() : jsonFeed11(feed.json1());
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, lastModifiedMs };
}

/** The library writes JSON Feed 1; 1.1 renames `author` to `authors` (a list) and bumps the version. */
function jsonFeed11(json1: string): string {
  const doc = JSON.parse(json1) as Record<string, unknown> & { items?: Array<Record<string, unknown>> };
  const upgrade = (o: Record<string, unknown>) => {
    if (o.author !== undefined) {
      o.authors = [o.author];
      delete o.author;
    }
  };
  upgrade(doc);
  for (const item of doc.items ?? []) upgrade(item);
  return JSON.stringify({ ...doc, version: 'https://jsonfeed.org/version/1.1' }, null, 2);
}
