import { assertNoErrors, withFreshDatabase, withLoad, withParent, type LoadErrors } from '../lib/harness.js';
import type { StoreKind } from '../lib/options.js';
import { cpuPercent, MB, sampleProcess } from '../lib/proc-stats.js';
import { figure, type Scenario } from '../lib/report-types.js';
import { dispatchTask, openBenchStore, seedFeeds, seedNodes, seedTask } from '../lib/seed.js';
import { seedCompletedHistory } from '../lib/seed-history.js';

type CyclesEvent = { cycles: number; elapsedMs: number; errors: LoadErrors };
type HeartbeatsEvent = { count: number; elapsedMs: number; errors: LoadErrors };

const CLAIMERS = 8;
const HEARTBEAT_INTERVAL_MS = 5000;

export type FleetRun = {
  cpuPercent: number;
  rssMB: number;
  peakRssMB: number;
  heartbeatsPerSecond: number;
  cyclesPerSecond: number;
};

/**
 * `nodes` simulated nodes heartbeat every 5 s (staggered) while 8 of them run claim cycles for `durationMs`;
 * parent CPU (share of one core) and RSS come from /proc of the parent process over that window.
 */
async function fleetRun(
  store: StoreKind,
  nodeCount: number,
  durationMs: number,
  allocations: number,
): Promise<FleetRun> {
  return withFreshDatabase(store, async (db) => {
    const { store: s, config } = await openBenchStore(db.url);
    let nodes;
    try {
      // Only the claimers are online at dispatch time, so the work is theirs; the rest come online by heartbeat.
      const claimers = await seedNodes(s, CLAIMERS, { capacity: 10000, online: true, prefix: 'claimer' });
      const idle = await seedNodes(s, nodeCount - CLAIMERS, { capacity: 10, online: false, prefix: 'fleet' });
      const taskId = await seedTask(s, await seedFeeds(s, allocations));
      await dispatchTask(s, config, taskId);
      nodes = [...claimers, ...idle];
    } finally {
      await s.close();
    }
    return withParent(db.url, {}, (parent) =>
      withLoad(parent.url, nodes, async (load) => {
        load.send({ command: 'heartbeats', intervalMs: HEARTBEAT_INTERVAL_MS });
        const before = sampleProcess(parent.pid);
        load.send({ command: 'cycles', concurrency: CLAIMERS, deadlineMs: Date.now() + durationMs });
        const cycles = await load.next<CyclesEvent>('cycles');
        const after = sampleProcess(parent.pid);
        load.send({ command: 'stop-heartbeats' });
        const beats = await load.next<HeartbeatsEvent>('heartbeats');
        assertNoErrors('claim cycles', cycles.errors);
        assertNoErrors('heartbeats', beats.errors);
        return {
          cpuPercent: cpuPercent(before, after),
          rssMB: after.rssBytes / MB,
          peakRssMB: after.peakRssBytes / MB,
          heartbeatsPerSecond: beats.count / (beats.elapsedMs / 1000),
          cyclesPerSecond: cycles.cycles / (cycles.elapsedMs / 1000),
        };
      }),
    );
  });
}

/** Claim cycles/s of 8 children over `allocations` pending allocations with `historyRows` completed rows beside them. */
async function historyRun(store: StoreKind, historyRows: number, allocations: number): Promise<number> {
  return withFreshDatabase(store, async (db) => {
    const { store: s, config } = await openBenchStore(db.url);
    let nodes;
    try {
      nodes = await seedNodes(s, CLAIMERS, { capacity: 10000, online: true });
      await seedCompletedHistory(
        s,
        historyRows,
        nodes.map((n) => n.id),
      );
      const taskId = await seedTask(s, await seedFeeds(s, allocations));
      await dispatchTask(s, config, taskId);
    } finally {
      await s.close();
    }
    return withParent(db.url, {}, (parent) =>
      withLoad(parent.url, nodes, async (load) => {
        load.send({ command: 'floor', concurrency: CLAIMERS, requests: 200 }); // warm-up
        await load.next('floor');
        load.send({ command: 'cycles', concurrency: CLAIMERS });
        const cycles = await load.next<CyclesEvent>('cycles');
        assertNoErrors('claim cycles', cycles.errors);
        if (cycles.cycles !== allocations) throw new Error(`completed ${cycles.cycles} of ${allocations} allocations`);
        return cycles.cycles / (cycles.elapsedMs / 1000);
      }),
    );
  });
}

export const scaleScenario: Scenario = {
  id: 'scale',
  title: '5. Scale: a heartbeating fleet, and claims beside 1,000,000 allocation rows',
  async run({ options, log }) {
    const fleet = options.quick ? 100 : 500;
    const durationMs = options.quick ? 6000 : 15000;
    const bigHistory = options.quick ? 100_000 : 1_000_000;
    const smallHistory = 1000;
    const allocations = options.quick ? 300 : 1000;
    const fleetRuns: FleetRun[] = [];
    const big: number[] = [];
    const small: number[] = [];
    for (let r = 0; r < options.runs; r += 1) {
      const f = await fleetRun(options.store, fleet, durationMs, 20000);
      fleetRuns.push(f);
      log(
        `scale fleet run ${r + 1}: CPU ${f.cpuPercent.toFixed(0)} %, RSS ${f.rssMB.toFixed(0)} MB, ${f.heartbeatsPerSecond.toFixed(0)} heartbeats/s, ${f.cyclesPerSecond.toFixed(0)} cycles/s`,
      );
      small.push(await historyRun(options.store, smallHistory, allocations));
      big.push(await historyRun(options.store, bigHistory, allocations));
      log(
        `scale history run ${r + 1}: ${small.at(-1)?.toFixed(0)} cycles/s beside ${smallHistory} rows, ${big.at(-1)?.toFixed(0)} beside ${bigHistory}`,
      );
    }
    const label = bigHistory.toLocaleString('en');
    return {
      parameters: {
        fleet_nodes: fleet,
        heartbeat_interval_s: HEARTBEAT_INTERVAL_MS / 1000,
        claimers: CLAIMERS,
        window_s: durationMs / 1000,
        history_rows: [smallHistory, bigHistory],
        allocations_per_history_run: allocations,
      },
      note: options.quick
        ? `quick: ${fleet} nodes for ${durationMs / 1000} s, ${label} history rows instead of 500 nodes for 15 s and 1,000,000 rows`
        : null,
      figures: [
        figure(
          'fleet_parent_cpu_percent',
          `parent CPU, ${fleet} nodes heartbeating + ${CLAIMERS} claiming`,
          '% of a core',
          fleetRuns.map((f) => f.cpuPercent),
        ),
        figure(
          'fleet_parent_rss_mb',
          'parent RSS at the end of the window',
          'MB',
          fleetRuns.map((f) => f.rssMB),
        ),
        figure(
          'fleet_parent_peak_rss_mb',
          'parent peak RSS',
          'MB',
          fleetRuns.map((f) => f.peakRssMB),
        ),
        figure(
          'fleet_heartbeats_per_s',
          'heartbeats served',
          'req/s',
          fleetRuns.map((f) => f.heartbeatsPerSecond),
        ),
        figure(
          'fleet_cycles_per_s',
          `claim cycles/s during the fleet run, K=${CLAIMERS}`,
          'cycles/s',
          fleetRuns.map((f) => f.cyclesPerSecond),
        ),
        figure(
          'history_small_cycles_per_s',
          `claim cycles/s beside ${smallHistory.toLocaleString('en')} rows, K=${CLAIMERS}`,
          'cycles/s',
          small,
        ),
        figure('history_big_cycles_per_s', `claim cycles/s beside ${label} rows, K=${CLAIMERS}`, 'cycles/s', big),
        figure(
          'history_ratio',
          `${label} rows ÷ ${smallHistory.toLocaleString('en')} rows throughput`,
          '×',
          big.map((b, i) => b / (small[i] as number)),
          { op: '>=', value: 0.8 },
        ),
      ],
    };
  },
};
