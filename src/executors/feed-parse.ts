import { createHash } from 'node:crypto';
import { parseFeed } from 'feedsmith';
import { syndicationPeriodSeconds, ttlSecondsFromMinutes } from '../domain/feed-rhythm.js';
import { PermanentFeedError, type Article } from './types.js';

/** One entry in a format-neutral shape, before it becomes an article. */
type Entry = {
  guid?: string | undefined;
  link?: string | undefined;
  title?: string | undefined;
  date?: string | undefined;
  description?: string | undefined;
  contentHtml?: string | undefined;
  contentText?: string | undefined;
  image?: string | undefined;
};

/** Parses RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 0.3/1.0 and JSON Feed 1.0/1.1 into articles with stable ids. */
export function parseFeedArticles(feedId: string, body: string, contentType: string): Article[] {
  return parseFeedDocument(feedId, body, contentType).articles;
}

/** What a feed declares about its own rhythm, in seconds (docs/refresh.md): RSS `<ttl>` and `sy:updatePeriod`/`sy:updateFrequency`. */
export type DeclaredRhythm = { ttlSeconds?: number | undefined; updatePeriodSeconds?: number | undefined };

/** The articles and the feed's declared rhythm. */
export function parseFeedDocument(
  feedId: string,
  body: string,
  contentType: string,
): { articles: Article[]; rhythm: DeclaredRhythm } {
  let parsed: ReturnType<typeof parseFeed>;
  try {
    parsed = parseFeed(body);
  } catch (error) {
    // The reason already names the parser's complaint; no cause, so it is not repeated in the report.
    throw new PermanentFeedError(notAFeedReason(body, contentType, error));
  }
  return { articles: entriesOf(parsed).map((entry) => toArticle(feedId, entry)), rhythm: declaredRhythm(parsed) };
}

function declaredRhythm(parsed: ReturnType<typeof parseFeed>): DeclaredRhythm {
  if (parsed.format === 'json') return {};
  const sy = parsed.feed.sy;
  return {
    ttlSeconds: parsed.format === 'rss' ? ttlSecondsFromMinutes(parsed.feed.ttl) : undefined,
    updatePeriodSeconds: syndicationPeriodSeconds(sy?.updatePeriod, sy?.updateFrequency),
  };
}

function notAFeedReason(body: string, contentType: string, error: unknown): string {
  const type = contentType.split(';')[0]?.trim() || 'no content type';
  if (/^\s*(<!doctype html|<html)/i.test(body) || type === 'text/html')
    return `not a feed: got ${type === 'no content type' ? 'an HTML page' : type}`;
  if (!body.trim()) return `not a feed: empty body (${type})`;
  return `not a feed: ${(error as Error).message} (${type})`;
}

function entriesOf(parsed: ReturnType<typeof parseFeed>): Entry[] {
  switch (parsed.format) {
    case 'rss':
      return (parsed.feed.items ?? []).map((item) => ({
        guid: item.guid?.value,
        link: item.link,
        title: item.title,
        date: item.pubDate ?? item.dc?.date,
        description: item.description,
        contentHtml: item.content?.encoded,
        image:
          item.enclosures?.find((e) => e.type?.startsWith('image/'))?.url ??
          item.media?.contents?.[0]?.url ??
          item.media?.thumbnails?.[0]?.url,
      }));
    case 'rdf':
      return (parsed.feed.items ?? []).map((item) => ({
        guid: item.rdf?.about,
        link: item.link,
        title: item.title,
        date: item.dc?.date,
        description: item.description,
        contentHtml: item.content?.encoded,
      }));
    case 'atom':
      return (parsed.feed.entries ?? []).map((entry) => {
        const links = entry.links ?? [];
        const alternate = links.find((l) => !l.rel || l.rel === 'alternate') ?? links[0];
        return {
          guid: entry.id,
          link: alternate?.href,
          title: entry.title,
          date: entry.published ?? entry.updated,
          description: entry.summary,
          contentHtml: entry.content,
          image:
            links.find((l) => l.rel === 'enclosure' && l.type?.startsWith('image/'))?.href ??
            entry.media?.thumbnails?.[0]?.url,
        };
      });
    case 'json':
      return (parsed.feed.items ?? []).map((item) => ({
        guid: item.id,
        link: item.url,
        title: item.title,
        date: item.date_published ?? item.date_modified,
        description: item.summary,
        contentHtml: item.content_html,
        contentText: item.content_text,
        image: item.image ?? item.banner_image,
      }));
    default:
      throw new PermanentFeedError('not a feed: unrecognized format');
  }
}

function toArticle(feedId: string, entry: Entry): Article {
  const contentHtml =
    entry.contentHtml ?? (entry.contentText ? escapeHtml(entry.contentText) : (entry.description ?? ''));
  const publishSeconds = toUnixSeconds(entry.date);
  return {
    id: stableArticleId(feedId, entry.guid, entry.link, entry.title, entry.date),
    mp_id: feedId,
    // Lengths the parent accepts (docs/protocol.md §2 article columns).
    title: ((entry.title ?? '').trim() || '(untitled)').slice(0, 1000),
    url: (entry.link ?? '').slice(0, 2000),
    pic_url: (entry.image ?? firstImage(contentHtml) ?? '').slice(0, 2000),
    description: htmlToText(entry.description ?? '').slice(0, 1000),
    content: contentHtml,
    content_markdown: entry.contentText ?? htmlToText(contentHtml),
    publish_time: publishSeconds,
  };
}

/** sha256(feed id + guid, else link, else title + date), first 40 hex characters: the same entry → the same id. */
export function stableArticleId(feedId: string, guid?: string, link?: string, title?: string, date?: string): string {
  const key = guid ? `guid:${guid}` : link ? `link:${link}` : `title:${title ?? ''}|${date ?? ''}`;
  return createHash('sha256').update(`${feedId}\n${key}`).digest('hex').slice(0, 40);
}

function toUnixSeconds(date: string | undefined): number {
  if (!date) return 0;
  const ms = Date.parse(date);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function firstImage(html: string): string | undefined {
  return /<img[^>]+src=["']([^"']+)["']/i.exec(html)?.[1];
}

function escapeHtml(text: string): string {
  return `<p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`;
}

/** A plain-text rendering good enough for search and previews; not a full Markdown converter. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|blockquote)>/gi, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
