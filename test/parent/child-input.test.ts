import { describe, expect, it } from 'vitest';
import {
  normaliseChildBody,
  normaliseCompletionBody,
  normaliseFeedResult,
} from '../../src/parent/routes/child/child-input.js';

describe('child input normalisation (the one place)', () => {
  it.each([
    [
      { mp_id: 'A', status: 'success', article_count: 2 },
      { mp_id: 'A', status: 'success', article_count: 2 },
    ],
    [
      { mp_id: 'A', mp_name: 'n', status: 'failed', error: 'timeout' },
      { mp_id: 'A', status: 'failed', article_count: 0, error: 'timeout' },
    ],
    [
      { feed_id: 'A', mp_name: 'n', success: true, article_count: 3, new_article_count: 1, error: null },
      { mp_id: 'A', status: 'success', article_count: 3, new_article_count: 1 },
    ],
    [
      { feed_id: 'A', success: false, article_count: 0, new_article_count: 0, error: 'HTTP 503' },
      { mp_id: 'A', status: 'failed', article_count: 0, new_article_count: 0, error: 'HTTP 503' },
    ],
    [
      { mp_id: 'A', status: 'ERROR' },
      { mp_id: 'A', status: 'failed', article_count: 0 },
    ],
    [
      { mp_id: 'A', article_count: '7', new_article_count: '2.0' },
      { mp_id: 'A', status: 'success', article_count: 7, new_article_count: 2 },
    ],
    [
      { mp_id: 'A', error: 'no status, an error' },
      { mp_id: 'A', status: 'failed', article_count: 0, error: 'no status, an error' },
    ],
    [
      { mp_id: 12, article_count: -1 },
      { mp_id: '12', status: 'success', article_count: 0 },
    ],
  ])('reads %j as %j', (item, expected) => {
    expect(normaliseFeedResult(item)).toEqual(expected);
  });

  it.each([null, 'text', 3, [], {}, { mp_name: 'no id' }, { mp_id: '' }])(
    'leaves out %j, which names no feed',
    (item) => {
      expect(normaliseFeedResult(item)).toBeUndefined();
    },
  );

  it('drops top-level nulls, reads numeric strings, keeps only known article fields and an object ext', () => {
    const body = {
      allocation_id: 'x',
      error_message: null,
      article_count: '4',
      articles: [
        { id: 1, mp_id: 'A', title: null, pic_url: null, publish_time: '1764236401', ext: null, unknown: true },
        { id: 'b', mp_id: 'A', publish_time: 1764236402.9, ext: { n: 1 } },
        { id: 'c', mp_id: 'A', ext: ['not', 'an', 'object'] },
        'not an article',
      ],
    };
    expect(normaliseChildBody(body)).toEqual({
      allocation_id: 'x',
      article_count: 4,
      articles: [
        { id: '1', mp_id: 'A', publish_time: 1764236401 },
        { id: 'b', mp_id: 'A', publish_time: 1764236402, ext: { n: 1 } },
        { id: 'c', mp_id: 'A' },
        'not an article',
      ],
    });
  });

  it('leaves real type errors for the schema to refuse', () => {
    expect(normaliseChildBody({ allocation_id: 123, articles: 'none' })).toEqual({
      allocation_id: 123,
      articles: 'none',
    });
    expect(normaliseCompletionBody({ allocation_id: 'x', results: 'all good' })).toEqual({
      allocation_id: 'x',
      results: 'all good',
    });
    expect(normaliseChildBody('not an object')).toBe('not an object');
  });
});
