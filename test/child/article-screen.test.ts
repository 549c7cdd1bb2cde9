import { describe, expect, it } from 'vitest';
import { screenArticles } from '../../src/child/article-screen.js';
import type { Article } from '../../src/executors/types.js';

const article = (id: string, content = 'fine'): Article => ({
  id,
  mp_id: 'MP_1',
  title: id,
  url: `https://example.com/${id}`,
  pic_url: '',
  description: '',
  content,
  content_markdown: content,
  publish_time: 0,
});

describe('screenArticles', () => {
  it('leaves out an entry with a NUL or over the upload size, names why, and keeps the rest in order', () => {
    const { kept, skipped } = screenArticles(
      [article('a'), article('nul', 'x\u0000y'), article('big', 'z'.repeat(5000)), article('b')],
      4096,
    );
    expect(kept.map((a) => a.id)).toEqual(['a', 'b']);
    expect(skipped).toEqual([
      { id: 'nul', reason: 'contains a NUL character in content' },
      { id: 'big', reason: expect.stringMatching(/^larger than one upload \(\d+ bytes, limit 4096\)$/) },
    ]);
  });

  it('keeps the text "\\u0000" written out, which is not a NUL', () => {
    expect(screenArticles([article('escaped', 'C string ends in \\u0000')], 4096).skipped).toEqual([]);
  });
});
