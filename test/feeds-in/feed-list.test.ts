import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseFeedUrl } from '../../src/domain/feed-entries.js';
import { detectFeedListFormat, parseFeedList } from '../../src/feeds-in/feed-list.js';
import { FeedListError } from '../../src/feeds-in/list-item.js';

const OPML = readFileSync(join(import.meta.dirname, '../fixtures/feed-lists/subscriptions.opml'), 'utf8').replaceAll(
  'FEED_BASE',
  'https://feeds.example',
);

describe('OPML lists', () => {
  it('takes every outline with an xmlUrl at any depth, by line and folder path, and says what it left out', () => {
    const list = parseFeedList(OPML);
    expect(list.format).toBe('opml');
    expect(list.entries).toEqual([
      { at: 'line 8 (Tech › Alpha & Co)', entry: { url: 'https://feeds.example/alpha.xml', name: 'Alpha & Co' } },
      { at: 'line 11 (Tech › Blogs › Beta)', entry: { url: 'https://feeds.example/beta.xml', name: 'Beta' } },
      { at: 'line 12 (Tech › Blogs › Gamma)', entry: { url: 'https://feeds.example/gamma.atom', name: 'Gamma' } },
      { at: 'line 19 (Top level)', entry: { url: 'https://feeds.example/top.json', name: 'Top level' } },
    ]);
    expect(list.invalid).toEqual([]);
    expect(list.skipped).toEqual([
      {
        at: 'line 16 (News › Alpha again)',
        reason: 'duplicate: an earlier entry has the same URL (line 8 (Tech › Alpha & Co))',
      },
      { at: 'line 17 (News › Empty folder)', reason: 'no xmlUrl (not a feed)' },
    ]);
  });

  it('reports a feed outline without a usable URL against its place', () => {
    const list = parseFeedList(
      '<opml><body><outline text="A"><outline type="rss" text="no url"/><outline text="ftp" xmlUrl="ftp://x.example/f"/></outline></body></opml>',
    );
    expect(list.entries).toEqual([]);
    expect(list.invalid.map((i) => i.at)).toEqual(['line 1 (A › no url)', 'line 1 (A › ftp)']);
    expect(list.invalid[1]?.reason).toContain('not ftp:');
  });

  it('refuses a file that is no OPML, or one without outlines', () => {
    expect(() => parseFeedList('<html><body>hi</body></html>', 'opml')).toThrow(FeedListError);
    expect(() => parseFeedList('<opml version="2.0"><body></body></opml>')).toThrow(/no outlines/);
  });
});

describe('text lists', () => {
  it('reads one URL per line with comments and blank lines, and names the lines it cannot use', () => {
    const list = parseFeedList(
      '\uFEFF# my feeds\r\nhttps://a.example/feed   # the good one\r\n\r\nhttps://b.example/rss\nnot a url\nhttp://A.example/feed\nfile:///etc/passwd\n',
    );
    expect(list.format).toBe('text');
    expect(list.entries.map((e) => [e.at, e.entry.url])).toEqual([
      ['line 2', 'https://a.example/feed'],
      ['line 4', 'https://b.example/rss'],
      ['line 6', 'http://a.example/feed'],
    ]);
    expect(list.invalid).toEqual([
      { at: 'line 5', reason: 'expected one URL on the line (start a comment with #)' },
      { at: 'line 7', reason: 'only http(s) feeds can be fetched, not file:' },
    ]);
    expect(list.skipped).toEqual([]);
    // http://A.example/feed above is another URL than https://a.example/feed (the scheme differs); this is the same.
    expect(parseFeedList('https://a.example/feed\nhttps://A.EXAMPLE/feed').skipped).toEqual([
      { at: 'line 2', reason: 'duplicate: an earlier entry has the same URL (line 1)' },
    ]);
  });

  it('imports exactly the distinct URLs given, in order, whatever comments and blank lines surround them', () => {
    const filler = fc.constantFrom('', '   ', '# a comment', '  # indented comment', '\t');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.webUrl({ withQueryParameters: true }), filler, fc.boolean())), (rows) => {
        const lines = rows.flatMap(([url, extra, trailing]) => [trailing ? `${url} # note` : url, extra]);
        const list = parseFeedList(lines.join('\n'), 'text');
        const expected = [
          ...new Set(rows.map(([url]) => normaliseFeedUrl(url)).flatMap((n) => ('url' in n ? [n.url] : []))),
        ];
        expect(list.entries.map((e) => e.entry.url)).toEqual(expected);
      }),
    );
  });

  it('accounts for every line that is not blank or a comment exactly once, and never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom('#', 'http://', 'https://x y'))),
        (lines) => {
          const list = parseFeedList(lines.join('\n'), 'text');
          const meaningful = lines
            .join('\n')
            .split(/\r\n|\n|\r/)
            .filter((line) => line.replace(/(^|\s)#.*$/, '').trim() !== '').length;
          expect(list.entries.length + list.invalid.length + list.skipped.length).toBe(meaningful);
        },
      ),
    );
  });
});

describe('JSON lists', () => {
  it('reads an array, the API body or `cascade feed list --json` output', () => {
    const array = parseFeedList(
      '[{"url": "https://a.example/f", "id": "A", "name": "Aa"}, "https://b.example/f", 7, {"url": 3}]',
    );
    expect(array.format).toBe('json');
    expect(array.entries.map((e) => e.entry)).toEqual([
      { url: 'https://a.example/f', id: 'A', name: 'Aa' },
      { url: 'https://b.example/f', name: 'b.example/f' },
    ]);
    expect(array.invalid.map((i) => i.at)).toEqual(['item 3', 'item 4']);
    const listed = parseFeedList(
      JSON.stringify({ list: [{ id: 'X', mp_name: 'Ex', url: 'https://x.example/f', status: 1 }], total: 1 }),
    );
    expect(listed.entries.map((e) => e.entry)).toEqual([{ url: 'https://x.example/f', id: 'X', name: 'Ex' }]);
    expect(parseFeedList('{"feeds": [{"url": "https://c.example/"}]}').entries).toHaveLength(1);
    expect(() => parseFeedList('{"feeds": 1}')).toThrow(FeedListError);
    expect(() => parseFeedList('[1,', 'json')).toThrow(/not valid JSON/);
  });
});

it('detects the format from the content', () => {
  expect(detectFeedListFormat('\uFEFF  <?xml version="1.0"?><opml/>')).toBe('opml');
  expect(detectFeedListFormat('\n[{"url": "x"}]')).toBe('json');
  expect(detectFeedListFormat('{"feeds": []}')).toBe('json');
  expect(detectFeedListFormat('# list\nhttps://a.example/')).toBe('text');
});
