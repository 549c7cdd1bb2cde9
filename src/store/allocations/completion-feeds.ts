import type { Updateable } from 'kysely';
import type { RhythmUpdate } from '../feed-rhythm.js';
import { compareKeys } from '../key-order.js';
import type { FeedTable } from '../tables.js';
import type { CompletionPlan } from './completion-plan.js';
import type { Trx } from './shared.js';

/** What one feed's row gets from an accepted completion. */
export type FeedChange = { id: string; values: Updateable<FeedTable> };

/**
 * Everything an accepted completion writes to its feeds, one change per feed, in key order: the learned rhythm of
 * every fetched feed (docs/refresh.md), the times and the fetching node (warm placement) of the succeeded ones,
 * and the validators they reported. One UPDATE per feed in one order, instead of a rhythm pass in report order and
 * a times pass in index order, so that two transactions writing the same feeds (an article upload, which updates
 * its feeds in key order, and a completion) wait for each other instead of deadlocking.
 */
export function completionFeedChanges(
  plan: CompletionPlan,
  rhythm: readonly RhythmUpdate[],
  nodeId: string,
  nowMs: number,
): FeedChange[] {
  const changes = new Map<string, Updateable<FeedTable>>();
  const add = (id: string, values: Updateable<FeedTable>) => changes.set(id, { ...changes.get(id), ...values });
  for (const { id, ...values } of rhythm) add(id, values);
  const seconds = Math.floor(nowMs / 1000);
  for (const id of plan.succeededFeedIds)
    add(id, { update_time: seconds, sync_time: seconds, last_node_id: nodeId, updated_at: nowMs });
  for (const { id, etag, last_modified: lastModified } of plan.validators)
    add(id, { etag, last_modified: lastModified });
  return [...changes].sort(([a], [b]) => compareKeys(a, b)).map(([id, values]) => ({ id, values }));
}

/** Applies the changes in the order given, one UPDATE by primary key each. */
export async function writeFeedChanges(trx: Trx, changes: readonly FeedChange[]): Promise<void> {
  for (const { id, values } of changes) await trx.updateTable('feeds').set(values).where('id', '=', id).execute();
}
