import type { FeedEntry } from '../domain/feed-entries.js';
import { FeedListError, type ListItem } from './list-item.js';

/**
 * A JSON list: an array of `{url, id?, name?}` (a bare URL string also counts), or an object holding it under
 * `feeds` (the body of `POST /feeds/import`) or `list` (what `cascade feed list --json` prints, whose `mp_name` is
 * taken as the name): the feeds of one parent carry over to another.
 */
export function readJsonList(content: string): ListItem[] {
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch (error) {
    throw new FeedListError(`The file is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(document) ? document : isObject(document) ? (document.feeds ?? document.list) : undefined;
  if (!Array.isArray(list))
    throw new FeedListError(
      'A JSON feed list is an array of {"url", "id"?, "name"?}, or an object with such an array under "feeds" or "list".',
    );
  return list.map((value: unknown, index): ListItem => {
    const at = `item ${index + 1}`;
    if (typeof value === 'string') return { at, entry: { url: value } };
    if (!isObject(value)) return { at, problem: 'expected an object {"url", "id"?, "name"?} or a URL string' };
    const { url, id } = value;
    const name = value.name ?? value.mp_name;
    if (typeof url !== 'string') return { at, problem: '"url" is missing or not a string' };
    if (id !== undefined && typeof id !== 'string') return { at, problem: '"id" must be a string' };
    if (name !== undefined && typeof name !== 'string') return { at, problem: '"name" must be a string' };
    const entry: FeedEntry = { url };
    if (id !== undefined) entry.id = id;
    if (name !== undefined && name !== '') entry.name = name;
    return { at, entry };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
