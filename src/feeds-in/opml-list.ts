import { parseOpml } from 'feedsmith';
import type { FeedEntry } from '../domain/feed-entries.js';
import { FeedListError, type ListItem } from './list-item.js';

type Outline = NonNullable<NonNullable<ReturnType<typeof parseOpml>['body']>['outlines']>[number];

/**
 * An OPML subscription list, as feed readers export it: every outline with an `xmlUrl` is a feed, named by its
 * `title` (else `text`); outlines without one are folders, whose names only say where an entry is (`Tech › Blogs ›
 * Example`). Nesting may be any depth. An outline of `type="rss"` without `xmlUrl` is a problem; any other outline
 * without feeds under it (a link, an empty folder, a comment) is ignored and said so.
 */
export function readOpmlList(content: string): ListItem[] {
  let outlines: Outline[];
  try {
    outlines = parseOpml(content).body?.outlines ?? [];
  } catch (error) {
    // feedsmith refuses an <opml> whose body is empty the same way as a file that is no OPML at all.
    if (/<opml[\s>]/i.test(content))
      throw new FeedListError('The OPML document has no outlines in its <body>: no feeds to import.');
    throw new FeedListError(
      `The file is not an OPML document: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const found: Array<{ outline: Outline; path: string[] }> = [];
  const walk = (list: readonly Outline[], parents: readonly string[]): void => {
    for (const outline of list) {
      const path = [...parents, label(outline)];
      found.push({ outline, path });
      walk(outline.outlines ?? [], path);
    }
  };
  walk(outlines, []);
  if (found.length === 0) throw new FeedListError('The OPML document has no outlines in its <body>.');
  const lines = outlineLines(content);
  // The n-th outline met walking the tree is the n-th <outline tag in the text, unless the reader dropped an empty one.
  const lineOf = (index: number): number | undefined => (lines.length === found.length ? lines[index] : undefined);
  return found.flatMap(({ outline, path }, index): ListItem[] => {
    const line = lineOf(index);
    const at = line === undefined ? `outline ${path.join(' › ')}` : `line ${line} (${path.join(' › ')})`;
    if (outline.xmlUrl !== undefined) {
      const entry: FeedEntry = { url: outline.xmlUrl };
      const name = outline.title ?? outline.text;
      if (name !== undefined) entry.name = name;
      return [{ at, entry }];
    }
    if ((outline.outlines ?? []).length > 0) return [];
    if (outline.isComment === true) return [{ at, ignored: 'a comment' }];
    if (/^(rss|atom|feed)$/i.test(outline.type ?? ''))
      return [{ at, problem: `type="${outline.type ?? ''}" but no xmlUrl` }];
    return [{ at, ignored: 'no xmlUrl (not a feed)' }];
  });
}

function label(outline: Outline): string {
  const text = (outline.title ?? outline.text ?? '').trim();
  return text === '' ? '(untitled)' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Line numbers of the `<outline` tags, in document order; comments and CDATA blanked out first (newlines kept). */
function outlineLines(content: string): number[] {
  const blank = (match: string): string => match.replace(/[^\n]/g, ' ');
  const text = content.replace(/<!--[\s\S]*?-->/g, blank).replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, blank);
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (const match of text.matchAll(/<outline[\s/>]/gi)) {
    for (let i = scanned; i < match.index; i += 1) if (text.charCodeAt(i) === 10) line += 1;
    scanned = match.index;
    lines.push(line);
  }
  return lines;
}
