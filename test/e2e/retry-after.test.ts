import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { allocations, startChild, startCluster, stopEverything, type Allocation } from './harness.js';

afterEach(stopEverything);

describe('a feed that answers "retry after N s"', () => {
  it('is fetched again after the wait it asked for within the attempt; a wait past the maximum is left to the parent', async () => {
    // A long backoff: work the child leaves to the parent waits as pending on attempt 2, where the test can see it.
    const local = await startCluster({
      'dispatch.feeds_per_allocation': 1,
      'dispatch.max_attempts': 3,
      'dispatch.retry_backoff_seconds': 300,
    });
    const paths = {
      LATER_429: '/retry-after/2?status=429&then=rss2-tech-news.xml',
      LATER_503: '/retry-after/1?status=503&then=atom-minimal.atom',
      TOO_LATE: '/retry-after/600?status=429',
    };
    for (const [id, path] of Object.entries(paths))
      await local.api.call('POST', '/api/v1/feeds', {
        id,
        mp_name: id,
        url: `${local.feedServer.url}${path}`,
        status: 1,
      });
    const task = await local.createTask('retry-after', Object.keys(paths));
    const node = await local.addNode('patient', 4);
    startChild(local, node, 'patient', { maxConcurrency: 4, cascade: { retry_after_max_seconds: 5 } });
    const run = await local.dispatch(task.id);

    const byFeed = await waitFor(
      'the waited-out feeds to complete and the other to wait for the parent',
      async () => {
        const rows = await allocations(local, run.schedule_run_id);
        const settled = rows.every((r) => r.status === 'completed' || (r.status === 'pending' && r.attempt === 2));
        return rows.length === 3 && settled
          ? new Map<string, Allocation>(rows.map((r) => [r.feed_ids[0]!, r]))
          : undefined;
      },
      90_000,
    );

    for (const [id, seconds] of [
      ['LATER_429', 2],
      ['LATER_503', 1],
    ] as const) {
      expect(byFeed.get(id), id).toMatchObject({ status: 'completed', attempt: 1 });
      const asks = local.feedServer.retryAfterAsks.get(paths[id]) ?? [];
      expect(asks, id).toHaveLength(2);
      // Asked again no sooner than the server said: the child waited, it did not retry at once or on the backoff.
      expect(asks[1]! - asks[0]!, id).toBeGreaterThanOrEqual(seconds * 1000);
    }
    const tooLate = byFeed.get('TOO_LATE');
    expect(tooLate).toMatchObject({ status: 'pending', attempt: 2 });
    expect(tooLate?.error_message).toContain('HTTP 429');
    expect(tooLate?.error_message).toContain('Retry-After 600 s');
    expect(tooLate?.error_message).toContain('more than cascade.retry_after_max_seconds (5 s)');
    expect(local.feedServer.retryAfterAsks.get(paths.TOO_LATE), 'asked once, not held for 600 s').toHaveLength(1);
  }, 150_000);
});
