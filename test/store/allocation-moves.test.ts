import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { loadConfig } from '../../src/config/load.js';
import type { AllocationStatus } from '../../src/domain/allocation-states.js';
import { CascadeError } from '../../src/errors/cascade-error.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { assertLoadCountersConsistent, seedFeeds, seedTask, snapshot } from '../helpers/seed.js';

type Scenario = { store: Store; nodeId: string; otherNodeId: string; target: string; bystander: string };

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A store with two online nodes, a target allocation driven into `state`, and a bystander that must never move. */
async function scenario(databaseUrl: string, state: AllocationStatus, maxAttempts = 3): Promise<Scenario> {
  const config = loadConfig({
    env: {},
    overrides: {
      'database.url': databaseUrl,
      'dispatch.max_attempts': maxAttempts,
      'dispatch.retry_backoff_seconds': 0,
    },
  });
  const store = await openStore(config);
  stores.push(store);
  await store.migrate();
  const now = Date.now();
  const a = (await store.nodes.create({ node_type: 1, name: 'a', sync_config: { max_capacity: 5 } })).node.id;
  const b = (await store.nodes.create({ node_type: 1, name: 'b', sync_config: { max_capacity: 5 } })).node.id;
  await store.nodes.recordHeartbeat(a, {}, now);
  const feeds = await seedFeeds(store, 2);
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
  // Claims take the longest claimable first (claimable_at, then id), so order the same way to know which one a claim takes.
  const rows = await databaseOf(store)
    .selectFrom('allocations')
    .select(['id', 'feed_ids'])
    .orderBy('claimable_at')
    .orderBy('id')
    .execute();
  const target = rows[0]?.id as string;
  const bystander = rows[1]?.id as string;
  // Both are pre-assigned to `a`; claim one at a time so the bystander stays pending.
  if (state !== 'pending') {
    const claimed = await store.allocations.claim(a, 1);
    expect(claimed.map((r) => r.id)).toEqual([target]);
  }
  if (['executing', 'completed', 'failed', 'timeout'].includes(state)) await store.allocations.start(target, a);
  if (state === 'completed') await store.allocations.complete(target, a, [], 0);
  if (state === 'failed') await store.allocations.fail(target, a, 'boom');
  if (state === 'timeout') await store.allocations.expireLeases(Date.now() + 10 * 60_000);
  if (state === 'cancelled') await store.allocations.cancel(target);
  const row = await store.allocations.views.get(target);
  expect(row?.status).toBe(state);
  return { store, nodeId: a, otherNodeId: b, target, bystander };
}

const MOVES = {
  start: (s: Scenario) => s.store.allocations.start(s.target, s.nodeId),
  complete: async (s: Scenario) => (await s.store.allocations.complete(s.target, s.nodeId, [], 0)).allocation,
  fail: (s: Scenario) => s.store.allocations.fail(s.target, s.nodeId, 'broken'),
  cancel: (s: Scenario) => s.store.allocations.cancel(s.target),
  retry: (s: Scenario) => s.store.allocations.retry(s.target),
} as const;

/**
 * [state, move, expected status afterwards | error code]. Final-state states use max_attempts 1 where needed. A node
 * reporting on work that timed out or was cancelled under it has lost its lease (LEASE_LOST, drop the work).
 */
const TABLE: Array<[AllocationStatus, keyof typeof MOVES, AllocationStatus | string, number?]> = [
  ['pending', 'start', 'INVALID_TRANSITION'],
  ['pending', 'complete', 'INVALID_TRANSITION'],
  ['pending', 'fail', 'INVALID_TRANSITION'],
  ['pending', 'cancel', 'cancelled'],
  ['pending', 'retry', 'INVALID_TRANSITION'],
  ['claimed', 'start', 'executing'],
  ['claimed', 'complete', 'INVALID_TRANSITION'],
  ['claimed', 'fail', 'INVALID_TRANSITION'],
  ['claimed', 'cancel', 'cancelled'],
  ['claimed', 'retry', 'INVALID_TRANSITION'],
  ['executing', 'complete', 'completed'],
  ['executing', 'fail', 'pending'],
  ['executing', 'cancel', 'cancelled'],
  ['executing', 'retry', 'INVALID_TRANSITION'],
  ['completed', 'start', 'INVALID_TRANSITION'],
  ['completed', 'fail', 'INVALID_TRANSITION'],
  ['completed', 'cancel', 'INVALID_TRANSITION'],
  ['completed', 'retry', 'INVALID_TRANSITION'],
  ['failed', 'start', 'INVALID_TRANSITION', 1],
  ['failed', 'complete', 'INVALID_TRANSITION', 1],
  ['failed', 'cancel', 'INVALID_TRANSITION', 1],
  ['failed', 'retry', 'pending', 1],
  ['timeout', 'start', 'LEASE_LOST', 1],
  ['timeout', 'complete', 'LEASE_LOST', 1],
  ['timeout', 'retry', 'pending', 1],
  ['cancelled', 'start', 'LEASE_LOST'],
  ['cancelled', 'complete', 'LEASE_LOST'],
  ['cancelled', 'retry', 'pending'],
];

describeEachStore('allocation state machine', (dialect) => {
  it.each(TABLE)('%s --%s--> %s', async (state, moveName, expected, maxAttempts) => {
    const s = await scenario(await dialect.createDatabase(), state, maxAttempts ?? 3);
    const before = await snapshot(s.store);
    const beforeBystander = before.allocations.find((r) => r.id === s.bystander);
    let outcome: string;
    try {
      outcome = (await MOVES[moveName](s)).status;
    } catch (error) {
      if (!(error instanceof CascadeError)) throw error;
      outcome = error.code;
    }
    expect(outcome).toBe(expected);
    const after = await snapshot(s.store);
    expect(after.allocations.find((r) => r.id === s.bystander)).toEqual(beforeBystander);
    if (expected === expected.toUpperCase()) {
      expect(after).toEqual(before); // a refused move changes nothing at all
    } else {
      const row = after.allocations.find((r) => r.id === s.target);
      expect(row?.status).toBe(expected);
      const live = after.live.some((l) => l.allocation_id === s.target);
      expect(live).toBe(['pending', 'claimed', 'executing'].includes(expected));
      if (expected === 'pending' && moveName === 'fail') {
        expect(row?.node_id).toBeNull();
        expect(row?.attempt).toBe(2);
      }
    }
    await assertLoadCountersConsistent(s.store);
  });

  it('a repeated completion returns the allocation unchanged', async () => {
    const s = await scenario(await dialect.createDatabase(), 'completed');
    const before = await snapshot(s.store);
    expect((await MOVES.complete(s)).status).toBe('completed');
    expect(await snapshot(s.store)).toEqual(before);
  });

  it('a node that never held an allocation gets NOT_FOUND; one whose lease was lost gets LEASE_LOST', async () => {
    const s = await scenario(await dialect.createDatabase(), 'executing');
    await expect(s.store.allocations.start(s.target, s.otherNodeId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await s.store.allocations.expireLeases(Date.now() + 10 * 60_000);
    const before = await snapshot(s.store);
    await expect(s.store.allocations.complete(s.target, s.nodeId, [], 0)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await snapshot(s.store)).toEqual(before);
  });

  it('release moves pre-assigned pending work of an offline node to the pool', async () => {
    const s = await scenario(await dialect.createDatabase(), 'pending');
    const released = await s.store.allocations.releaseOfflineNodes(180, Date.now() + 10 * 60_000);
    expect(released).toBe(2);
    const rows = await databaseOf(s.store)
      .selectFrom('allocations')
      .select(['node_id', 'status', 'placement'])
      .execute();
    expect(
      rows.every((r) => r.node_id === null && r.status === 'pending' && r.placement.includes('went offline')),
    ).toBe(true);
    await assertLoadCountersConsistent(s.store);
  });

  it('deleting a node requeues its held work and releases its pending work in one step', async () => {
    const s = await scenario(await dialect.createDatabase(), 'executing');
    await s.store.allocations.deleteNode(s.nodeId);
    const rows = await databaseOf(s.store)
      .selectFrom('allocations')
      .select(['id', 'node_id', 'status', 'attempt'])
      .orderBy('id')
      .execute();
    expect(rows.every((r) => r.node_id === null && r.status === 'pending')).toBe(true);
    expect(rows.find((r) => r.id === s.target)?.attempt).toBe(2);
    expect(
      await databaseOf(s.store).selectFrom('nodes').select('id').where('id', '=', s.nodeId).executeTakeFirst(),
    ).toBeUndefined();
  });
});
