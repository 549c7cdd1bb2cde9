import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { assertLoadCountersConsistent, seedFeeds, seedTask } from '../helpers/seed.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

type Pkg = { allocation_id: string; attempt: number };
type Beat = { leases_extended: number; released_unlisted: number };
type Aksk = { api_key: string; api_secret: string };

let t: TestParent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const attemptsOf = (store: Store, id: string) =>
  databaseOf(store)
    .selectFrom('allocation_attempts')
    .select(['attempt', 'outcome', 'claimed_at', 'ended_at'])
    .where('allocation_id', '=', id)
    .orderBy('attempt')
    .execute();

/**
 * Issue #11 defect 2: work whose claim answer never reached the child was held forever, because every heartbeat
 * renewed every lease the node held. Cascade's child now lists what it holds; the parent renews only that and
 * requeues the rest (sparing young claims), and a claim that never starts is requeued after claim_timeout_seconds.
 */
describeEachStore('held allocations: heartbeat lists and claim timeout', (dialect) => {
  async function claimTwo(overrides: Record<string, unknown>) {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.retry_backoff_seconds': 0, ...overrides },
    });
    const store = t.parent.services.store;
    // Every sweep for unstarted claims, with the time it judged by and what it requeued.
    const sweeps: Array<{ nowMs: number; requeued: number }> = [];
    const expireUnstartedClaims = store.allocations.expireUnstartedClaims.bind(store.allocations);
    store.allocations.expireUnstartedClaims = async (claimTimeoutSeconds, nowMs = Date.now()) => {
      const expired = await expireUnstartedClaims(claimTimeoutSeconds, nowMs);
      sweeps.push({ nowMs, requeued: expired.requeued });
      return expired;
    };
    await seedTask(store, await seedFeeds(store, 2));
    const a = await t.addChild('a');
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const claimed = await api<{ list: Pkg[] }>(t.url, '/api/v1/cascade/claim-task?max=2', { method: 'POST', aksk: a });
    const [kept, lost] = claimed.body.data.list.map((p) => p.allocation_id) as [string, string];
    expect(
      (
        await api(t.url, '/api/v1/cascade/task-status', {
          method: 'PUT',
          aksk: a,
          json: { allocation_id: kept, status: 'executing' },
        })
      ).status,
    ).toBe(200);
    return { store, a, kept, lost, sweeps };
  }
  const beat = async (a: Aksk, json: unknown) =>
    (await api<Beat>(t!.url, '/api/v1/cascade/heartbeat', { aksk: a, json })).body.data;

  it('a heartbeat that lists what the child holds renews only that and requeues the rest once the grace for claims in flight is over', async () => {
    const { store, a, kept, lost } = await claimTwo({
      'dispatch.held_grace_seconds': 1,
      'dispatch.lease_seconds': 600,
    });
    const leaseOf = async (id: string) => Number((await store.allocations.views.get(id))?.leaseExpiresAtMs);
    const lostLease = await leaseOf(lost);
    // Within the grace the unlisted claim is spared (its answer may still be on the way) and not renewed.
    expect(await beat(a, { held_allocation_ids: [kept], heartbeat_interval_s: 1 })).toMatchObject({
      leases_extended: 1,
      released_unlisted: 0,
    });
    expect(await leaseOf(lost)).toBe(lostLease);
    const released = await waitFor('the unlisted claim requeued', async () => {
      const answer = await beat(a, { held_allocation_ids: [kept], heartbeat_interval_s: 1 });
      return answer.released_unlisted > 0 ? answer : undefined;
    });
    expect(released).toMatchObject({ leases_extended: 1, released_unlisted: 1 });
    expect(await store.allocations.views.get(lost)).toMatchObject({ status: 'pending', nodeId: null, attempt: 2 });
    expect((await attemptsOf(store, lost)).map((x) => [x.attempt, x.outcome])).toEqual([[1, 'not_held']]);
    expect(await store.allocations.views.get(kept)).toMatchObject({ status: 'executing', attempt: 1 });
    expect((await store.nodes.get(a.id)).heartbeatIntervalMs).toBe(1000);
    await assertLoadCountersConsistent(store);

    // A restarted child holds nothing: its executing work from before the restart goes back at once.
    expect(await beat(a, { held_allocation_ids: [] })).toMatchObject({ leases_extended: 0, released_unlisted: 1 });
    expect(await store.allocations.views.get(kept)).toMatchObject({ status: 'pending', attempt: 2 });
    await assertLoadCountersConsistent(store);
    // The requeued work is claimable again, by the same node too.
    const again = await api<{ list: Pkg[] }>(t!.url, '/api/v1/cascade/claim-task?max=2', { method: 'POST', aksk: a });
    expect(again.body.data.list.map((p) => [p.allocation_id, p.attempt]).sort()).toEqual(
      [
        [kept, 2],
        [lost, 2],
      ].sort(),
    );
  });

  it('a metric shows, per node, held feeds the child does not report', async () => {
    const { a } = await claimTwo({ 'dispatch.held_grace_seconds': 600 });
    // The child says it holds one feed (the executing one); the parent counts two (the lost claim too).
    await beat(a, { current_tasks: 1 });
    const text = await (await fetch(`${t!.url}/metrics`)).text();
    expect(text).toContain('cascade_node_held_feeds_disagreement{node="a"} 1');
    await beat(a, { current_tasks: 2 });
    expect(await (await fetch(`${t!.url}/metrics`)).text()).toContain(
      'cascade_node_held_feeds_disagreement{node="a"} 0',
    );
  });

  it('the original child’s empty heartbeat renews everything and releases nothing; a claim that never starts is requeued after claim_timeout_seconds', async () => {
    const { store, a, kept, lost, sweeps } = await claimTwo({
      'dispatch.claim_timeout_seconds': 2,
      'dispatch.sweep_interval_seconds': 1,
      'dispatch.lease_seconds': 600,
    });
    const requeued = await waitFor('the unstarted claim requeued by the sweeper', async () => {
      // The original child beats with an empty body: no list, so nothing is released by the heartbeat.
      expect(await beat(a, {})).toMatchObject({ released_unlisted: 0 });
      const row = await store.allocations.views.get(lost);
      return row?.status === 'pending' ? row : undefined;
    });
    expect(requeued).toMatchObject({ nodeId: null, attempt: 2 });
    const [attempt] = await attemptsOf(store, lost);
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'claim_timeout' });
    // Not before the timeout, and by the first sweep that ran after it (counted in sweeps, not milliseconds: a slow
    // machine delays the sweeps, not the rule).
    const claimedAt = Number(attempt!.claimed_at);
    const heldMs = Number(attempt!.ended_at) - claimedAt;
    expect(heldMs).toBeGreaterThanOrEqual(2000);
    const firstAfterTimeout = sweeps.find((sweep) => sweep.nowMs - 2000 > claimedAt);
    expect(firstAfterTimeout).toEqual({ nowMs: Number(attempt!.ended_at), requeued: 1 });
    // Started work is the lease's business, not the claim timeout's.
    expect(await store.allocations.views.get(kept)).toMatchObject({ status: 'executing', attempt: 1 });
    await assertLoadCountersConsistent(store);
  });
});
