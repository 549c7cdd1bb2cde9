import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CascadeError } from '../../src/errors/cascade-error.js';
import { AllocationReports } from '../../src/services/allocation-reports.js';
import { allocationSummary } from '../../src/services/allocation-summary.js';
import { openStore, type Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { seedFeeds, seedTask, snapshot } from '../helpers/seed.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A store with two online nodes and `count` single-feed allocations pre-assigned to the first; `claimed` of them claimed. */
async function scene(databaseUrl: string, count: number, claimed: number) {
  const config = loadConfig({
    env: {},
    overrides: {
      'database.url': databaseUrl,
      'dispatch.max_attempts': 3,
      'dispatch.retry_backoff_seconds': 0,
      'politeness.enabled': false,
    },
  });
  const store = await openStore(config);
  stores.push(store);
  await store.migrate();
  const now = Date.now();
  const nodeId = (await store.nodes.create({ node_type: 1, name: 'a', sync_config: { max_capacity: 10 } })).node.id;
  const otherNodeId = (await store.nodes.create({ node_type: 1, name: 'b', sync_config: { max_capacity: 10 } })).node
    .id;
  await store.nodes.recordHeartbeat(nodeId, {}, now);
  const feeds = await seedFeeds(store, count);
  const task = await seedTask(store, feeds);
  await store.allocations.dispatch({
    taskId: task,
    taskName: task,
    feedIds: feeds,
    scheduleRunId: 'run-1',
    nowMs: now,
    feedsPerAllocation: 1,
    offlineAfterSeconds: 180,
  });
  // Online only after the dispatch, so that every allocation is pre-assigned to the first node.
  await store.nodes.recordHeartbeat(otherNodeId, {}, now);
  const ids = (await store.allocations.claim(nodeId, claimed)).map((r) => r.id);
  return { store, nodeId, otherNodeId, ids, reports: new AllocationReports(store) };
}

describeEachStore('allocation reports (the rules behind task-status)', (dialect) => {
  it('completes a claimed allocation without results by starting it first, and a repeat changes nothing', async () => {
    const { store, nodeId, ids, reports } = await scene(await dialect.createDatabase(), 1, 1);
    const id = ids[0]!;
    const first = await reports.completeWithoutResults(id, { nodeId });
    expect(first).toMatchObject({ moved: true, allocation: { id, status: 'completed' } });
    const before = await snapshot(store);
    const again = await reports.completeWithoutResults(id, { nodeId });
    expect(again).toMatchObject({ moved: false, allocation: { id, status: 'completed' } });
    expect(await snapshot(store)).toEqual(before);
  });

  it('answers the same failure sent again as recorded, and still refuses one from a node that never held it', async () => {
    const { store, nodeId, otherNodeId, ids, reports } = await scene(await dialect.createDatabase(), 1, 1);
    const id = ids[0]!;
    await store.allocations.start(id, nodeId);
    const failed = await reports.fail(id, { nodeId, attempt: 1 }, 'boom', true);
    expect(failed).toMatchObject({ moved: true, allocation: { id, status: 'pending', attempt: 2 } });
    const before = await snapshot(store);
    expect(await reports.fail(id, { nodeId, attempt: 1 }, 'boom', true)).toMatchObject({
      moved: false,
      allocation: { id, status: 'pending', attempt: 2 },
    });
    const refused = await reports.fail(id, { nodeId: otherNodeId }, 'boom', true).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CascadeError);
    expect(await snapshot(store)).toEqual(before);
  });

  it('summarises the pool: claimed and executing count as executing, finished work by UTC day', async () => {
    const { store, nodeId, ids } = await scene(await dialect.createDatabase(), 4, 3);
    await store.allocations.start(ids[0]!, nodeId);
    await store.allocations.start(ids[1]!, nodeId);
    await store.allocations.complete(ids[1]!, nodeId, [], 0);
    const summary = await allocationSummary(store, Date.now(), 180);
    expect(summary).toEqual({
      pending_tasks: 1,
      executing_tasks: 2,
      completed_today: 1,
      failed_today: 0,
      online_nodes: 2,
    });
  });
});
