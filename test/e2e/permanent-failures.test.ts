import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { allocations, startChild, startCluster, stopEverything, type Allocation } from './harness.js';

afterEach(stopEverything);

describe('feed failures a real child classifies', () => {
  it('fails 404, 410 and not-a-feed at once on the first attempt, and retries a 503', async () => {
    // A long backoff: a retried allocation waits as pending on attempt 2, where the test can see it.
    const local = await startCluster({
      'dispatch.feeds_per_allocation': 1,
      'dispatch.max_attempts': 3,
      'dispatch.retry_backoff_seconds': 300,
    });
    const urls = {
      GONE_404: '/status/404',
      GONE_410: '/status/410',
      UNAVAILABLE_503: '/status/503',
      NOT_A_FEED: '/status/200',
    };
    for (const [id, path] of Object.entries(urls))
      await local.api.call('POST', '/api/v1/feeds', {
        id,
        mp_name: id,
        url: `${local.feedServer.url}${path}`,
        status: 1,
      });
    const task = await local.createTask('failures', Object.keys(urls));
    const node = await local.addNode('classifier', 4);
    startChild(local, node, 'classifier', { maxConcurrency: 4 });
    const run = await local.dispatch(task.id);
    expect(run.allocations_created).toBe(4);

    const byFeed = await waitFor('every allocation to be failed or waiting for a retry', async () => {
      const rows = await allocations(local, run.schedule_run_id);
      const settled = rows.every((r) => r.status === 'failed' || (r.status === 'pending' && r.attempt === 2));
      return rows.length === 4 && settled
        ? new Map<string, Allocation>(rows.map((r) => [r.feed_ids[0]!, r]))
        : undefined;
    });
    for (const id of ['GONE_404', 'GONE_410', 'NOT_A_FEED'])
      expect(byFeed.get(id), id).toMatchObject({ status: 'failed', attempt: 1 });
    expect(byFeed.get('GONE_404')?.error_message).toContain('HTTP 404');
    expect(byFeed.get('GONE_410')?.error_message).toContain('HTTP 410');
    expect(byFeed.get('NOT_A_FEED')?.error_message).toContain('not a feed');
    expect(byFeed.get('UNAVAILABLE_503')).toMatchObject({
      status: 'pending',
      attempt: 2,
      error_message: expect.stringContaining('HTTP 503'),
    });
  }, 120_000);
});
