import { createHash } from 'node:crypto';

/**
 * The rules every imported feed entry passes, wherever it comes from (an OPML file read by the CLI, a JSON body sent
 * to `POST /feeds/import`): one place decides what a usable feed URL is, when two entries are the same feed, and
 * which id a feed gets when the list names none. Pure: no I/O.
 */

/** Longest stored feed URL (the `feeds.url` column). */
const MAX_FEED_URL_LENGTH = 2000;
/** Longest feed id (the `feeds.id` column, and the API's id parameter). */
const MAX_FEED_ID_LENGTH = 191;
/** Longest feed name (`feeds.mp_name`). */
const MAX_FEED_NAME_LENGTH = 500;
/** Most entries one `POST /feeds/import` may carry; `cascade feed import` sends a longer list in parts of this size. */
export const MAX_IMPORT_ENTRIES = 1000;

/** One feed as a list names it: a URL, and perhaps the id and name to store it under. */
export type FeedEntry = { url: string; id?: string | undefined; name?: string | undefined };

/** An entry that passed the rules: its URL normalised, its name settled; `id` only when the list gave one. */
export type ScreenedEntry = { url: string; id?: string; name: string };

export type EntryVerdict =
  | { kind: 'ok'; entry: ScreenedEntry }
  /** The same feed as the earlier entry at index `of` (same URL, and no other id): harmless, imported once. */
  | { kind: 'duplicate'; of: number; reason: string }
  /** Unusable; `of` is the index of the earlier entry it conflicts with, when that is the problem. */
  | { kind: 'invalid'; field: 'url' | 'id' | 'name'; reason: string; of?: number };

// Matching control characters is the point.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The URL as the feed is stored and compared: WHATWG-normalised (`HTTP://Example.COM:80/a` → `http://example.com/a`),
 * so two spellings of one address are one feed. Answers a reason instead when it is no http(s) URL.
 */
export function normaliseFeedUrl(raw: string): { url: string } | { reason: string } {
  const text = raw.trim();
  if (text === '') return { reason: 'the URL is empty' };
  if (/\s/.test(text) || CONTROL.test(text)) return { reason: 'a URL cannot contain spaces or control characters' };
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { reason: `'${clip(text)}' is not a URL (it needs http:// or https://)` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { reason: `only http(s) feeds can be fetched, not ${parsed.protocol.slice(0, -1)}:` };
  if (parsed.hostname === '') return { reason: 'the URL has no host' };
  if (parsed.href.length > MAX_FEED_URL_LENGTH)
    return { reason: `the URL is ${parsed.href.length} characters long; at most ${MAX_FEED_URL_LENGTH} are kept` };
  return { url: parsed.href };
}

function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'the id is empty';
  if (id.length > MAX_FEED_ID_LENGTH) return `the id is ${id.length} characters long; at most ${MAX_FEED_ID_LENGTH}`;
  if (id !== id.trim() || CONTROL.test(id))
    return 'the id cannot start or end with spaces or contain control characters';
  return undefined;
}

/**
 * Checks every entry of a list, in order. An entry repeating an earlier one's URL is a `duplicate` when it names no
 * other id (an OPML export lists a feed under two folders); two different ids for one URL, or one id for two URLs,
 * is `invalid`, since either way one of them would be silently dropped.
 */
export function screenFeedEntries(entries: readonly FeedEntry[]): EntryVerdict[] {
  const byUrl = new Map<string, { index: number; id: string | undefined }>();
  const byId = new Map<string, { index: number; url: string }>();
  return entries.map((entry, index): EntryVerdict => {
    const normalised = normaliseFeedUrl(entry.url);
    if ('reason' in normalised) return { kind: 'invalid', field: 'url', reason: normalised.reason };
    const { url } = normalised;
    const id = entry.id;
    if (id !== undefined) {
      const problem = idProblem(id);
      if (problem) return { kind: 'invalid', field: 'id', reason: problem };
    }
    const name = (entry.name ?? '').trim() || defaultFeedName(url);
    if (name.length > MAX_FEED_NAME_LENGTH || CONTROL.test(name)) {
      return {
        kind: 'invalid',
        field: 'name',
        reason: `the name must be at most ${MAX_FEED_NAME_LENGTH} characters without control characters`,
      };
    }
    const sameUrl = byUrl.get(url);
    if (sameUrl) {
      if (id === undefined || sameUrl.id === undefined || id === sameUrl.id)
        return { kind: 'duplicate', of: sameUrl.index, reason: 'an earlier entry has the same URL' };
      return {
        kind: 'invalid',
        field: 'id',
        reason: `an earlier entry has the same URL under id '${sameUrl.id}'`,
        of: sameUrl.index,
      };
    }
    if (id !== undefined) {
      const sameId = byId.get(id);
      if (sameId)
        return {
          kind: 'invalid',
          field: 'id',
          reason: `an earlier entry uses id '${id}' for another URL`,
          of: sameId.index,
        };
      byId.set(id, { index, url });
    }
    byUrl.set(url, { index, id });
    return { kind: 'ok', entry: id === undefined ? { url, name } : { url, id, name } };
  });
}

/** A name for a feed the list gave none: its host and path (`blog.example.com/feed.xml`), readable in a table. */
export function defaultFeedName(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname === '/' ? '' : pathname}`.slice(0, MAX_FEED_NAME_LENGTH);
}

/** Hash lengths tried in turn when a derived id is taken by another URL: 40 bits, then 64, then the whole digest. */
export const DERIVED_ID_HASH_LENGTHS = [10, 16, 64] as const;

/**
 * The id of a feed a list names only by URL: a readable slug of its host and path, then a hash of the whole
 * normalised URL (`blog-example-com-feed-xml-b7523a7814`). The same URL always derives the same id (on any parent,
 * in any run), so an import repeated elsewhere lands on the same ids; the slug alone could collide (`/a-b` and
 * `/a/b`), the hash keeps the id unique. `hashLength` grows only when the shorter id is already someone else's.
 */
export function deriveFeedId(normalisedUrl: string, hashLength: number = DERIVED_ID_HASH_LENGTHS[0]): string {
  const { hostname, pathname } = new URL(normalisedUrl);
  const slug = `${hostname.replace(/^www\./, '')}${pathname}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(normalisedUrl).digest('hex').slice(0, hashLength);
  return slug === '' ? `feed-${hash}` : `${slug}-${hash}`;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
