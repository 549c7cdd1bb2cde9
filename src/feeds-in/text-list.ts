import type { ListItem } from './list-item.js';

/**
 * A plain list: one feed URL per line. Blank lines and `#` comments (a whole line, or after the URL and a space)
 * are ignored; anything else on a line besides the URL is a problem of that line, since a URL has no spaces.
 */
export function readTextList(content: string): ListItem[] {
  const items: ListItem[] = [];
  content.split(/\r\n|\n|\r/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const at = `line ${index + 1}`;
    const words = line.split(/\s+/);
    if (words.length > 1) items.push({ at, problem: 'expected one URL on the line (start a comment with #)' });
    else items.push({ at, entry: { url: line } });
  });
  return items;
}
