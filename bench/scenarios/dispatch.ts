import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/store.js';
import type { AllocationTable } from '../../src/store/tables.js';
import { chunk } from '../../src/store/time.js';
import { withFreshDatabase } from '../lib/harness.js';
import type { StoreKind } from '../lib/options.js';
import { figure, type Figure, type Scenario } from '../lib/report-types.js';
import { dispatchTask, openBenchStore, seedFeeds, seedNodes, seedTask } from '../lib/seed.js';
import { nowMs } from '../lib/stats.js';
import { databaseOf } from '../../src/store/store.js';

const NODES = 50;
/** The largest capacity a node may have (10,000), so that 100,000 feeds fit on 50 nodes. */
const CAPACITY = 10000;

/** Seconds for the real dispatcher (in this process) to place `feeds` feeds over 50 online nodes. */
async function timeDispatch(store: StoreKind, feeds: number): Promise<number> {
  return withFreshDatabase(store, async (db) => {
    const { store: s, config } = await openBenchStore(db.url);
    try {
      await seedNodes(s, NODES, { capacity: CAPACITY, online: true });
      const taskId = await seedTask(s, await seedFeeds(s, feeds));
      const started = nowMs();
      const summary = await dispatchTask(s, config, taskId);
      const seconds = (nowMs() - started) / 1000;
      if (summary.allocations_created !== feeds || summary.feeds_assigned !== feeds) {
        throw new Error(
          `dispatch placed ${summary.feeds_assigned} of ${feeds} feeds in ${summary.allocations_created} allocations`,
        );
      }
      return seconds;
    } finally {
      await s.close();
    }
  });
}

/**
 * The floor: the rows a dispatch writes (allocations, allocation_feeds, live_feeds), built in memory and
 * written with plain multi-row INSERTs in one transaction, in the same batch sizes, into a fresh database of
 * the same kind. Seconds.
 */
async function timeInsertFloor(store: StoreKind, feeds: number): Promise<number> {
  return withFreshDatabase(store, async (db) => {
    const { store: s } = await openBenchStore(db.url);
    try {
      const nodeIds = Array.from({ length: NODES }, () => randomUUID());
      const now = Date.now();
      const runId = randomUUID();
      const rows = buildRows(feeds, nodeIds, now, runId);
      const started = nowMs();
      await writeRows(s, rows);
      return (nowMs() - started) / 1000;
    } finally {
      await s.close();
    }
  });
}

type Rows = { allocations: AllocationTable[]; pairs: Array<{ allocation_id: string; feed_id: string }> };

function buildRows(feeds: number, nodeIds: string[], now: number, runId: string): Rows {
  const allocations = Array.from({ length: feeds }, (_, i) => {
    const feedId = `BENCH_${i + 1}`;
    const row: AllocationTable = {
      id: randomUUID(),
      task_id: 'bench-task',
      task_name: 'bench-task',
      node_id: nodeIds[i % nodeIds.length] as string,
      feed_ids: JSON.stringify([feedId]),
      feed_count: 1,
      status: 'pending',
      attempt: 1,
      max_attempts: 3,
      available_at: now,
      claimable_at: now,
      lease_expires_at: null,
      placement: 'placed on bench node',
      result_summary: null,
      error_message: null,
      dispatched_at: now,
      claimed_at: null,
      started_at: null,
      completed_at: null,
      schedule_run_id: runId,
      article_count: 0,
      new_article_count: 0,
      progress_at: null,
      progress_feeds_done: 0,
      progress_bytes_read: 0,
      stalled_at: null,
      created_at: now,
      updated_at: now,
    };
    return row;
  });
  return { allocations, pairs: allocations.map((r, i) => ({ allocation_id: r.id, feed_id: `BENCH_${i + 1}` })) };
}

async function writeRows(s: Store, rows: Rows): Promise<void> {
  const perRowInsert = Math.max(1, Math.min(1000, Math.floor(s.caps.maxParameters / 23)));
  const perPairInsert = Math.max(1, Math.min(1000, Math.floor(s.caps.maxParameters / 2)));
  await databaseOf(s)
    .transaction()
    .execute(async (trx) => {
      for (const part of chunk(rows.allocations, perRowInsert))
        await trx.insertInto('allocations').values(part).execute();
      for (const part of chunk(rows.pairs, perPairInsert)) {
        await trx.insertInto('allocation_feeds').values(part).execute();
        await trx.insertInto('live_feeds').values(part).execute();
      }
    });
}

export const dispatchScenario: Scenario = {
  id: 'dispatch',
  title: '3. Dispatch vs a plain batched insert of the same rows',
  async run({ options, log }) {
    const sizes = options.quick ? [1000, 10000] : [10000, 100000];
    const figures: Figure[] = [];
    for (const feeds of sizes) {
      const dispatchSeconds: number[] = [];
      const floorSeconds: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < options.runs; r += 1) {
        const d = await timeDispatch(options.store, feeds);
        const f = await timeInsertFloor(options.store, feeds);
        dispatchSeconds.push(d);
        floorSeconds.push(f);
        ratios.push(d / f);
        log(
          `dispatch ${feeds} feeds run ${r + 1}: ${d.toFixed(2)} s vs insert floor ${f.toFixed(2)} s (${(d / f).toFixed(2)}×)`,
        );
      }
      const size = feeds >= 1000 ? `${feeds / 1000}k` : String(feeds);
      figures.push(
        figure(
          `dispatch_s_${size}`,
          `dispatch ${feeds.toLocaleString('en')} feeds over ${NODES} nodes`,
          's',
          dispatchSeconds,
        ),
        figure(`insert_floor_s_${size}`, `insert floor, ${feeds.toLocaleString('en')} feeds`, 's', floorSeconds),
        figure(`dispatch_ratio_${size}`, `dispatch ÷ insert floor, ${feeds.toLocaleString('en')} feeds`, '×', ratios, {
          op: '<=',
          value: 3,
        }),
      );
    }
    return {
      parameters: { feeds: sizes, nodes: NODES, node_capacity: CAPACITY, feeds_per_allocation: 1, in_process: true },
      note: options.quick ? 'quick: 1,000 and 10,000 feeds instead of 10,000 and 100,000' : null,
      figures,
    };
  },
};
