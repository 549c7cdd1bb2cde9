import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultFeedName, deriveFeedId, normaliseFeedUrl, screenFeedEntries } from '../../src/domain/feed-entries.js';
import { planFeedImport } from '../../src/domain/feed-import-plan.js';

describe('normaliseFeedUrl', () => {
  it('keeps http(s) URLs in their normal form and says why anything else is refused', () => {
    expect(normaliseFeedUrl('  HTTP://Example.COM:80/Feed.xml ')).toEqual({ url: 'http://example.com/Feed.xml' });
    expect(normaliseFeedUrl('https://example.com')).toEqual({ url: 'https://example.com/' });
    expect(normaliseFeedUrl('ftp://example.com/feed')).toEqual({ reason: expect.stringContaining('not ftp:') });
    expect(normaliseFeedUrl('example.com/feed')).toEqual({ reason: expect.stringContaining('is not a URL') });
    expect(normaliseFeedUrl('')).toEqual({ reason: 'the URL is empty' });
    expect(normaliseFeedUrl('http://a.example/x y')).toEqual({ reason: expect.stringContaining('spaces') });
    expect(normaliseFeedUrl(`https://example.com/${'a'.repeat(2000)}`)).toEqual({
      reason: expect.stringContaining('at most 2000'),
    });
  });
});

describe('deriveFeedId', () => {
  it('is a readable slug of host and path plus a hash of the whole URL', () => {
    const id = deriveFeedId('https://www.example.com/blog/feed.xml?page=2');
    expect(id).toMatch(/^example-com-blog-feed-xml-[0-9a-f]{10}$/);
    // Two spellings of one address normalise to one URL, hence one id.
    const other = normaliseFeedUrl('HTTPS://WWW.Example.com:443/blog/feed.xml?page=2');
    expect('url' in other && deriveFeedId(other.url)).toBe(id);
    // Same slug, different URLs: the hash tells them apart.
    expect(deriveFeedId('https://example.com/a-b')).not.toBe(deriveFeedId('https://example.com/a/b'));
    expect(deriveFeedId('https://example.com/a-b', 16)).toMatch(/-[0-9a-f]{16}$/);
  });

  it('always fits the id column and uses only URL-safe characters', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
        const normalised = normaliseFeedUrl(raw);
        if (!('url' in normalised)) return;
        for (const length of [10, 16, 64]) {
          const id = deriveFeedId(normalised.url, length);
          expect(id.length).toBeLessThanOrEqual(191);
          expect(id).toMatch(/^[a-z0-9-]+$/);
        }
      }),
    );
  });
});

describe('screenFeedEntries', () => {
  it('passes good entries, marks repeats of a URL duplicates and contradictions invalid', () => {
    const verdicts = screenFeedEntries([
      { url: 'https://a.example/feed' },
      { url: 'https://A.example/feed', name: 'again' },
      { url: 'https://b.example/feed', id: 'B' },
      { url: 'https://b.example/feed', id: 'B2' },
      { url: 'https://c.example/feed', id: 'B' },
      { url: 'mailto:x@example.com' },
      { url: 'https://d.example/feed', id: ' D' },
    ]);
    expect(verdicts.map((v) => v.kind)).toEqual(['ok', 'duplicate', 'ok', 'invalid', 'invalid', 'invalid', 'invalid']);
    expect(verdicts[0]).toEqual({ kind: 'ok', entry: { url: 'https://a.example/feed', name: 'a.example/feed' } });
    expect(verdicts[1]).toMatchObject({ kind: 'duplicate', of: 0 });
    expect(verdicts[3]).toMatchObject({ field: 'id', of: 2 });
    expect(verdicts[4]).toMatchObject({ field: 'id', of: 2 });
    expect(verdicts[5]).toMatchObject({ field: 'url' });
  });

  it('names a feed after its host and path when the list gives no name', () => {
    expect(defaultFeedName('https://blog.example.com/')).toBe('blog.example.com');
    expect(defaultFeedName('https://blog.example.com:8443/rss')).toBe('blog.example.com:8443/rss');
  });
});

describe('planFeedImport', () => {
  const plan = (entries: Parameters<typeof screenFeedEntries>[0], stored: Array<{ id: string; url: string }>) =>
    planFeedImport(screenFeedEntries(entries), stored);

  it('creates what is not stored and leaves what is (same id or same URL) alone', () => {
    const derived = deriveFeedId('https://new.example/feed');
    const outcomes = plan(
      [
        { url: 'https://new.example/feed' },
        { url: 'https://old.example/feed' },
        { url: 'https://x.example/feed', id: 'KEPT' },
        { url: 'https://y.example/feed', id: 'Y' },
      ],
      [
        { id: 'OLD', url: 'https://old.example/feed' },
        { id: 'KEPT', url: 'https://elsewhere.example/feed' },
      ],
    );
    expect(outcomes).toEqual([
      { outcome: 'created', id: derived, url: 'https://new.example/feed', name: 'new.example/feed' },
      { outcome: 'present', id: 'OLD', url: 'https://old.example/feed', match: 'url' },
      {
        outcome: 'present',
        id: 'KEPT',
        url: 'https://elsewhere.example/feed',
        match: 'id',
        note: expect.stringContaining('another URL'),
      },
      { outcome: 'created', id: 'Y', url: 'https://y.example/feed', name: 'y.example/feed' },
    ]);
  });

  it('matches a stored URL typed without the trailing slash', () => {
    expect(plan([{ url: 'https://site.example' }], [{ id: 'S', url: 'https://site.example' }])).toEqual([
      { outcome: 'present', id: 'S', url: 'https://site.example', match: 'url' },
    ]);
  });

  it('takes a longer derived id when the short one belongs to another URL or another entry', () => {
    const url = 'https://taken.example/feed';
    const short = deriveFeedId(url);
    const [byStore] = plan([{ url }], [{ id: short, url: 'https://other.example/' }]);
    expect(byStore).toMatchObject({ outcome: 'created', id: deriveFeedId(url, 16) });
    const [, byEntry] = plan([{ url: 'https://z.example/', id: short }, { url }], []);
    expect(byEntry).toMatchObject({ outcome: 'created', id: deriveFeedId(url, 16) });
  });
});
