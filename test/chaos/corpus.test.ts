import { afterEach, describe, expect, it } from 'vitest';
import { startCorpus, type Corpus } from '../../chaos/lib/corpus.js';
import { parseFeedArticles } from '../../src/executors/feed-parse.js';

let corpus: Corpus | undefined;
afterEach(async () => corpus?.close());

describe('the generated corpus', () => {
  it('publishes exactly the articles it lists, and a new ETag once a feed grows', async () => {
    corpus = await startCorpus({ seed: 1, feeds: 2 });
    const feed = corpus.feeds[0] as { id: string; url: string };
    const first = await fetch(feed.url);
    const etag = first.headers.get('etag') ?? '';
    const links = parseFeedArticles(feed.id, await first.text(), '').map((a) => a.url);
    expect(links).toEqual(corpus.articleLinks(0));

    expect((await fetch(feed.url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    corpus.grow(0, 2);
    const grown = await fetch(feed.url, { headers: { 'if-none-match': etag } });
    expect(grown.status).toBe(200);
    expect(parseFeedArticles(feed.id, await grown.text(), '').map((a) => a.url)).toEqual(corpus.articleLinks(0));
    expect(corpus.articleLinks(0)).toHaveLength(links.length + 2);
    expect(corpus.notModified).toBe(1);
  });

  it('is the same corpus for the same seed', async () => {
    corpus = await startCorpus({ seed: 5, feeds: 3 });
    const counts = [0, 1, 2].map((i) => corpus?.articleLinks(i).length);
    await corpus.close();
    corpus = await startCorpus({ seed: 5, feeds: 3 });
    expect([0, 1, 2].map((i) => corpus?.articleLinks(i).length)).toEqual(counts);
  });
});
