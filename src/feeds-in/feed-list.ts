import { screenFeedEntries, type FeedEntry } from '../domain/feed-entries.js';
import { readJsonList } from './json-list.js';
import type { ListItem } from './list-item.js';
import { readOpmlList } from './opml-list.js';
import { readTextList } from './text-list.js';

export const FEED_LIST_FORMATS = ['opml', 'text', 'json'] as const;
export type FeedListFormat = (typeof FEED_LIST_FORMATS)[number];

/** A feed list file, read and checked: what to import, and every other item with where it is and why. */
export type FeedList = {
  format: FeedListFormat;
  /** Entries that pass the import rules, each once, in file order. */
  entries: Array<{ at: string; entry: FeedEntry }>;
  /** Items that cannot be imported: a bad URL, a clash of ids, a line that is not a URL. */
  invalid: Array<{ at: string; reason: string }>;
  /** Items left out on purpose: a repeated feed, an OPML outline that is no feed. */
  skipped: Array<{ at: string; reason: string }>;
};

/** OPML starts with `<`, JSON with `[` or `{`; anything else is read as one URL per line. */
export function detectFeedListFormat(content: string): FeedListFormat {
  const first = content.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '<') return 'opml';
  if (first === '[' || first === '{') return 'json';
  return 'text';
}

/**
 * Reads a feed list in the given format (detected from its content when absent) and checks its entries with the
 * same rules the import endpoint applies (domain/feed-entries.ts), so a bad entry is reported against its line
 * before anything is sent. A file that cannot be read at all throws FeedListError.
 */
export function parseFeedList(content: string, format: FeedListFormat = detectFeedListFormat(content)): FeedList {
  const text = content.replace(/^\uFEFF/, '');
  const items = readers[format](text);
  const list: FeedList = { format, entries: [], invalid: [], skipped: [] };
  const invalid: Array<{ position: number; at: string; reason: string }> = [];
  const skipped: Array<{ position: number; at: string; reason: string }> = [];
  const candidates: Array<{ position: number; at: string; entry: FeedEntry }> = [];
  items.forEach((item, position) => {
    if ('entry' in item) candidates.push({ position, at: item.at, entry: item.entry });
    else if ('problem' in item) invalid.push({ position, at: item.at, reason: item.problem });
    else skipped.push({ position, at: item.at, reason: item.ignored });
  });
  screenFeedEntries(candidates.map((c) => c.entry)).forEach((verdict, index) => {
    const { position, at } = candidates[index] as { position: number; at: string };
    const earlier = (of: number | undefined): string => (of === undefined ? '' : ` (${candidates[of]?.at ?? '?'})`);
    if (verdict.kind === 'ok') list.entries.push({ at, entry: verdict.entry });
    else if (verdict.kind === 'duplicate')
      skipped.push({ position, at, reason: `duplicate: ${verdict.reason}${earlier(verdict.of)}` });
    else invalid.push({ position, at, reason: `${verdict.reason}${earlier(verdict.of)}` });
  });
  const inFileOrder = (found: Array<{ position: number; at: string; reason: string }>) =>
    found.sort((a, b) => a.position - b.position).map(({ at, reason }) => ({ at, reason }));
  list.invalid = inFileOrder(invalid);
  list.skipped = inFileOrder(skipped);
  return list;
}

const readers: Readonly<Record<FeedListFormat, (content: string) => ListItem[]>> = {
  opml: readOpmlList,
  text: readTextList,
  json: readJsonList,
};
