import { afterAll, beforeAll, expect, it } from 'vitest';
import { MOVES, type Move } from '../../../src/domain/allocation-states.js';
import { SINGLE_STATEMENTS_ENV } from '../../../src/store/dialects/capabilities.js';
import {
  claimOwnInOneStatement,
  completeInOneStatement,
  startInOneStatement,
} from '../../../src/store/allocations/single-statement.js';
import { planCompletion } from '../../../src/store/allocations/completion-plan.js';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

/**
 * Every allocation move, once through the PostgreSQL single statements and once through the general path
 * (store/allocations/transition.ts, the single statements switched off), on two databases fed the same calls at
 * the same instants. After every step the two must hold the same rows: allocations, attempt history, node load,
 * live feeds, sync logs and feed times. Both follow one table (MOVES); this proves the statements do.
 */
const SETTINGS = { 'dispatch.lease_seconds': 60, 'dispatch.retry_backoff_seconds': 0, 'dispatch.max_attempts': 2 };
const LEASE = { leaseSeconds: 60, maxAttempts: 2, retryBackoffSeconds: 0, retryBackoffMaxSeconds: 600 };
const t0 = Date.UTC(2026, 10, 29, 8, 0, 0);

type Way = 'single' | 'general';
type Side = { way: Way; store: Store; nodes: Map<string, string> };

async function openWay(url: string, way: Way): Promise<Store> {
  const before = process.env[SINGLE_STATEMENTS_ENV];
  process.env[SINGLE_STATEMENTS_ENV] = way === 'single' ? 'on' : 'off';
  try {
    return await openTestStore(url, SETTINGS);
  } finally {
    if (before === undefined) delete process.env[SINGLE_STATEMENTS_ENV];
    else process.env[SINGLE_STATEMENTS_ENV] = before;
  }
}

describeEachStore(
  'every move both ways: single statements and the general path leave the same rows',
  (dialect) => {
    const sides: Side[] = [];
    const moved = new Set<Move>();

    beforeAll(async () => {
      for (const way of ['single', 'general'] as const)
        sides.push({ way, store: await openWay(await dialect.createDatabase(), way), nodes: new Map() });
    });
    afterAll(async () => {
      await Promise.all(sides.map((side) => side.store.close()));
    });

    /** Runs one step on both sides, then compares what they hold. */
    async function step(moves: Move[], run: (side: Side) => Promise<void>) {
      for (const side of sides) await run(side);
      const [single, general] = await Promise.all(sides.map(snapshot));
      expect(single).toEqual(general);
      for (const move of moves) moved.add(move);
    }

    /** The first allocation in this state by its feeds: the same one on both sides. */
    async function firstIn(side: Side, status: string): Promise<{ id: string; feed: string }> {
      const row = await databaseOf(side.store)
        .selectFrom('allocations')
        .select(['id', 'feed_ids'])
        .where('status', '=', status)
        .orderBy('feed_ids')
        .executeTakeFirstOrThrow();
      return { id: row.id, feed: (JSON.parse(row.feed_ids) as string[])[0] as string };
    }

    async function addNode(side: Side, name: string, capacity: number, nowMs: number) {
      const id = (await side.store.nodes.create({ node_type: 1, name, sync_config: { max_capacity: capacity } })).node
        .id;
      await side.store.nodes.recordHeartbeat(id, {}, nowMs);
      // Creation stamps the wall clock: pinned, so that only what the moves write differs.
      await databaseOf(side.store)
        .updateTable('nodes')
        .set({ created_at: 0, updated_at: 0 })
        .where('id', '=', id)
        .execute();
      side.nodes.set(name, id);
    }

    async function dispatch(side: Side, task: string, feeds: string[], nowMs: number, feedsPerAllocation = 1) {
      await side.store.allocations.dispatch({
        taskId: task,
        taskName: task,
        feedIds: feeds,
        scheduleRunId: `run-${task}`,
        nowMs,
        feedsPerAllocation,
        offlineAfterSeconds: 3600,
      });
    }

    const node = (side: Side, name: string) => side.nodes.get(name) as string;
    const F = (n: number) => `MP_BOTH_${n}`;

    it.runIf(dialect.variant.name === 'postgres')(
      'runs every move both ways and compares the rows after each',
      async () => {
        expect(sides.map((side) => side.store.caps.singleStatements)).toEqual([true, false]);
        // Ties in the claim order fall to the random ids, which differ between the two databases: every dispatch
        // has its own instant, and claims take all there is, so both sides move the same rows.
        await step([], async (side) => {
          await seedFeeds(side.store, 12, 'MP_BOTH_');
          await databaseOf(side.store).updateTable('feeds').set({ created_at: 0, updated_at: 0 }).execute();
          await addNode(side, 'a', 10, t0);
          for (let i = 1; i <= 6; i += 1) await dispatch(side, `task-${i}`, [F(i)], t0 + i);
        });
        // claim: the node's own pre-assigned work, which the single statement takes.
        await step(['claim'], async (side) => {
          if (side.way === 'single')
            expect(
              await claimOwnInOneStatement(databaseOf(side.store), LEASE, node(side, 'a'), 2, t0 + 1000),
            ).toHaveLength(2);
          else expect(await side.store.allocations.claim(node(side, 'a'), 2, t0 + 1000)).toHaveLength(2);
        });
        // start, complete: the other two single statements.
        await step(['start'], async (side) => {
          const { id } = await firstIn(side, 'claimed');
          if (side.way === 'single')
            expect(
              await startInOneStatement(databaseOf(side.store), LEASE, id, { nodeId: node(side, 'a') }, t0 + 2000),
            ).toBeDefined();
          else await side.store.allocations.start(id, node(side, 'a'), t0 + 2000);
        });
        await step(['complete'], async (side) => {
          const { id, feed } = await firstIn(side, 'executing');
          const results = [
            {
              mp_id: feed,
              status: 'success' as const,
              article_count: 3,
              new_article_count: 2,
              etag: '"e1"',
              last_modified: null,
            },
          ];
          if (side.way === 'single')
            expect(
              await completeInOneStatement(
                databaseOf(side.store),
                LEASE,
                id,
                { nodeId: node(side, 'a'), attempt: 1 },
                planCompletion(results, 3),
                t0 + 3000,
              ),
            ).toBeDefined();
          else
            await side.store.allocations.complete(id, { nodeId: node(side, 'a'), attempt: 1 }, results, 3, t0 + 3000);
        });
        await step(['start', 'failRetry'], async (side) => {
          const { id } = await firstIn(side, 'claimed');
          await side.store.allocations.start(id, node(side, 'a'), t0 + 4000);
          await side.store.allocations.fail(id, node(side, 'a'), 'feed answered 503', t0 + 5000, true);
        });
        // claim through the store: own work (a statement on the single side) and the unassigned work it has room for.
        await step(['claim'], async (side) => {
          expect(await side.store.allocations.claim(node(side, 'a'), 10, t0 + 6000)).toHaveLength(5);
        });
        await step(['start', 'failFinal'], async (side) => {
          const { id } = await firstIn(side, 'claimed');
          await side.store.allocations.start(id, node(side, 'a'), t0 + 7000);
          await side.store.allocations.fail(id, node(side, 'a'), 'not a feed', t0 + 8000, false);
        });
        await step(['expireRetry'], async (side) => {
          expect(await side.store.allocations.expireLeases(t0 + 120_000)).toEqual({ requeued: 4, timedOut: 0 });
        });
        await step(['claim', 'start', 'cancel'], async (side) => {
          expect(await side.store.allocations.claim(node(side, 'a'), 10, t0 + 121_000)).toHaveLength(4);
          await side.store.allocations.start((await firstIn(side, 'claimed')).id, node(side, 'a'), t0 + 122_000);
          await side.store.allocations.cancel((await firstIn(side, 'claimed')).id, t0 + 123_000);
        });
        await step(['expireFinal'], async (side) => {
          expect(await side.store.allocations.expireLeases(t0 + 300_000)).toEqual({ requeued: 0, timedOut: 3 });
        });
        await step(['retry'], async (side) => {
          await side.store.allocations.retry((await firstIn(side, 'failed')).id, t0 + 302_000);
        });
        // release: pre-assigned work its node has not claimed within the grace goes back to the pool.
        await step(['release'], async (side) => {
          await side.store.nodes.recordHeartbeat(node(side, 'a'), {}, t0 + 400_000);
          await databaseOf(side.store).updateTable('nodes').set({ updated_at: 0 }).execute();
          await dispatch(side, 'task-7', [F(7)], t0 + 400_000);
          expect(await side.store.allocations.releaseStalePreassigned(30, t0 + 460_000)).toBe(1);
        });
        // evict: node deletion requeues its held work (and releases its pending work).
        await step(['claim', 'evict'], async (side) => {
          await addNode(side, 'b', 2, t0 + 500_000);
          expect(await side.store.allocations.claim(node(side, 'b'), 2, t0 + 501_000)).toHaveLength(2);
          await side.store.allocations.deleteNode(node(side, 'b'), t0 + 502_000);
          const evicted = await databaseOf(side.store)
            .selectFrom('allocation_attempts')
            .select('id')
            .where('outcome', '=', 'node_deleted')
            .execute();
          expect(evicted).toHaveLength(2);
        });
        // split: unassigned work no active node can hold any longer.
        await step(['split'], async (side) => {
          await dispatch(side, 'task-8', [F(10), F(11), F(12)], t0 + 600_000, 3);
          await side.store.allocations.releaseStalePreassigned(1, t0 + 700_000);
          await databaseOf(side.store).updateTable('nodes').set({ max_capacity: 1 }).execute();
          expect(await side.store.allocations.splitOversizedPool(t0 + 701_000)).toBe(1);
        });

        expect([...moved].sort()).toEqual(Object.keys(MOVES).sort());
      },
    );
  },
  { only: ['postgres'] },
);

/** Every row the moves write, with each side's random ids replaced by names both sides share. */
async function snapshot(side: Side): Promise<unknown> {
  const db = databaseOf(side.store);
  const allocations = await db.selectFrom('allocations').selectAll().execute();
  const names = new Map<string, string>();
  for (const [name, id] of side.nodes) names.set(id, `node:${name}`);
  for (const row of allocations) names.set(row.id, `allocation:${row.feed_ids}@${row.created_at}`);
  const rename = (value: unknown) =>
    JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? renamed(v, names) : v)));
  const attempts = await db
    .selectFrom('allocation_attempts')
    .select(['allocation_id', 'attempt', 'node_id', 'claimed_at', 'started_at', 'ended_at', 'outcome', 'error_message'])
    .execute();
  const syncLogs = await db
    .selectFrom('sync_logs')
    .select([
      'node_id',
      'operation',
      'direction',
      'status',
      'data_count',
      'error_message',
      'extra_data',
      'started_at',
      'completed_at',
    ])
    .execute();
  return rename({
    allocations: sortBy(allocations, (r) => names.get(r.id) ?? r.id).map(({ id, ...row }) => ({
      id: names.get(id),
      ...row,
    })),
    attempts: sortBy(attempts, (r) => `${names.get(r.allocation_id)}#${r.attempt}`),
    nodes: sortBy(
      await db.selectFrom('nodes').select(['name', 'load_feeds', 'last_sync_at', 'updated_at']).execute(),
      (r) => r.name,
    ),
    liveFeeds: sortBy(await db.selectFrom('live_feeds').selectAll().execute(), (r) => r.feed_id),
    // The statement builds the log's JSON in SQL, the general path in JavaScript: the same object, other spacing.
    syncLogs: syncLogs.map((r) => ({ ...r, extra_data: JSON.parse(r.extra_data ?? 'null') as unknown })),
    feeds: sortBy(
      await db
        .selectFrom('feeds')
        .select(['id', 'update_time', 'sync_time', 'etag', 'last_modified', 'last_node_id', 'updated_at'])
        .execute(),
      (r) => r.id,
    ),
  });
}

function renamed(value: string, names: ReadonlyMap<string, string>): string {
  let out = value;
  for (const [id, name] of names) if (out.includes(id)) out = out.split(id).join(name);
  return out;
}

function sortBy<T>(rows: readonly T[], key: (row: T) => string): T[] {
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
