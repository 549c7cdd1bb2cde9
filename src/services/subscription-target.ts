import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { SubscriptionTarget } from '../feeds-out/subscription-urls.js';
import type { Store } from '../store/store.js';

/**
 * What a subscription URL is for, by the one rule `GET /feed-urls` and `cascade feed url` share: a feed, a message
 * task's merged feeds, or, with neither, everything. Naming both is refused, and so is a feed or task that does not
 * exist (NOT_FOUND), so no URL is ever printed for something the parent would not serve.
 */
export async function subscriptionTarget(
  store: Store,
  named: { feedId?: string | undefined; taskId?: string | undefined },
): Promise<SubscriptionTarget> {
  const { feedId, taskId } = named;
  if (feedId && taskId)
    throw new CascadeError('VALIDATION_FAILED', 'Give feed_id or task_id, not both.', {
      details: [{ path: 'task_id', message: 'give feed_id or task_id, not both' }],
    });
  if (feedId) {
    if (!(await store.feeds.find(feedId))) throw notFound('Feed', feedId);
    return { kind: 'feed', id: feedId };
  }
  if (taskId) {
    await store.tasks.get(taskId);
    return { kind: 'task', id: taskId };
  }
  return { kind: 'all' };
}
