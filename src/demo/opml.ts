/** A feed for an OPML list: its title (`text`) and address (`xmlUrl`). */
export type OpmlFeed = { name: string; url: string; broken: boolean };

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);

/**
 * OPML 2.0, the list format feed readers import and export: one `<outline type="rss">` per sample feed. The
 * deliberately broken ones stay in (they show what a failing feed looks like) and say so in their title.
 */
export function sampleFeedsOpml(feeds: readonly OpmlFeed[]): string {
  const outlines = feeds.map((feed) => {
    const title = feed.broken ? `${feed.name} (deliberately broken)` : feed.name;
    return `    <outline type="rss" text="${escapeXml(title)}" title="${escapeXml(title)}" xmlUrl="${escapeXml(feed.url)}"/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<opml version="2.0">',
    '  <head><title>Cascade sample feeds</title></head>',
    '  <body>',
    ...outlines,
    '  </body>',
    '</opml>',
    '',
  ].join('\n');
}
