import { assertNoErrors, withFreshDatabase, withLoad, withParent, type LoadErrors } from '../lib/harness.js';
import { startHealthProbe } from '../lib/health-probe.js';
import { cpuPercent, sampleProcess } from '../lib/proc-stats.js';
import { figure, type Figure, type Scenario } from '../lib/report-types.js';
import { openBenchStore, seedDispatchedWork } from '../lib/seed.js';

type CyclesEvent = { cycles: number; elapsedMs: number; claimP50Ms: number; claimP99Ms: number; errors: LoadErrors };
type FloorEvent = { requests: number; elapsedMs: number; errors: LoadErrors };

export type ClaimCycleRun = {
  cyclesPerSecond: number;
  claimP50Ms: number;
  claimP99Ms: number;
  floorCyclesPerSecond: number;
  ratio: number;
  /** Parent CPU time per cycle, and per three heartbeats: what the ratio comes down to when the parent is busy. */
  parentCpuMsPerCycle: number;
  parentCpuMsPerFloorCycle: number;
  /** Share of a core the load generator used during the cycles: whether it, not the parent, was the limit. */
  loadCpuPercent: number;
  /** p99 of GET /healthz probed during the cycles: how long the parent's event loop kept a request waiting. */
  healthzP99Ms: number;
};

/** Requests sent before measuring, so that both sides run on a warmed-up parent. */
const WARM_UP_REQUESTS = 200;

/**
 * One run at concurrency K: a fresh database with `allocations` one-feed allocations pre-assigned over K online
 * nodes, a parent process, and a load process that (1) runs claim → executing → report-completion cycles
 * until no work is left and then (2) sends the same number of authenticated round trips (three per cycle)
 * to POST /heartbeat, the cheapest authenticated child route, as the floor.
 */
async function claimCycleRun(
  store: 'sqlite' | 'postgres' | 'mysql',
  concurrency: number,
  allocations: number,
): Promise<ClaimCycleRun> {
  return withFreshDatabase(store, async (db) => {
    const { store: seeded, config } = await openBenchStore(db.url);
    let nodes;
    try {
      ({ nodes } = await seedDispatchedWork(seeded, config, {
        nodeCount: concurrency,
        capacity: 10000,
        feedCount: allocations,
      }));
    } finally {
      await seeded.close();
    }
    return withParent(db.url, {}, (parent) =>
      withLoad(parent.url, nodes, async (load) => {
        load.send({ command: 'floor', concurrency, requests: WARM_UP_REQUESTS });
        assertNoErrors('warm-up', (await load.next<FloorEvent>('floor')).errors);
        const p0 = sampleProcess(parent.pid);
        const l0 = sampleProcess(load.pid);
        const probe = startHealthProbe(parent.url);
        load.send({ command: 'cycles', concurrency });
        const cycles = await load.next<CyclesEvent>('cycles');
        const health = await probe.stop();
        const p1 = sampleProcess(parent.pid);
        const l1 = sampleProcess(load.pid);
        assertNoErrors('claim cycles', cycles.errors);
        if (cycles.cycles !== allocations)
          throw new Error(`claim cycles completed ${cycles.cycles} of ${allocations} allocations`);
        load.send({ command: 'floor', concurrency, requests: cycles.cycles * 3 });
        const floor = await load.next<FloorEvent>('floor');
        const p2 = sampleProcess(parent.pid);
        assertNoErrors('floor', floor.errors);
        const cyclesPerSecond = cycles.cycles / (cycles.elapsedMs / 1000);
        const floorCyclesPerSecond = floor.requests / 3 / (floor.elapsedMs / 1000);
        return {
          cyclesPerSecond,
          claimP50Ms: cycles.claimP50Ms,
          claimP99Ms: cycles.claimP99Ms,
          floorCyclesPerSecond,
          ratio: cyclesPerSecond / floorCyclesPerSecond,
          parentCpuMsPerCycle: (p1.cpuMs - p0.cpuMs) / cycles.cycles,
          parentCpuMsPerFloorCycle: (p2.cpuMs - p1.cpuMs) / (floor.requests / 3),
          loadCpuPercent: cpuPercent(l0, l1),
          healthzP99Ms: health.p99Ms,
        };
      }),
    );
  });
}

export const claimCycleScenario: Scenario = {
  id: 'claim-cycle',
  title: '1–2. Claim cycle over HTTP vs the authenticated round-trip floor',
  async run({ options, log }) {
    const allocations = options.quick ? 300 : 2000;
    const levels = [1, 8, 32];
    const figures: Figure[] = [];
    for (const k of levels) {
      const runs: ClaimCycleRun[] = [];
      for (let r = 0; r < options.runs; r += 1) {
        runs.push(await claimCycleRun(options.store, k, allocations));
        const last = runs.at(-1) as ClaimCycleRun;
        log(
          `claim-cycle K=${k} run ${r + 1}: ${last.cyclesPerSecond.toFixed(0)} cycles/s, floor ${last.floorCyclesPerSecond.toFixed(0)}, ratio ${last.ratio.toFixed(2)}, /healthz p99 ${last.healthzP99Ms.toFixed(1)} ms`,
        );
      }
      figures.push(
        figure(
          `cycles_per_s_k${k}`,
          `claim cycles/s, K=${k}`,
          'cycles/s',
          runs.map((r) => r.cyclesPerSecond),
        ),
        figure(
          `claim_p50_ms_k${k}`,
          `claim latency p50, K=${k}`,
          'ms',
          runs.map((r) => r.claimP50Ms),
        ),
        figure(
          `claim_p99_ms_k${k}`,
          `claim latency p99, K=${k}`,
          'ms',
          runs.map((r) => r.claimP99Ms),
        ),
        figure(
          `floor_cycles_per_s_k${k}`,
          `floor: 3 heartbeats as cycles/s, K=${k}`,
          'cycles/s',
          runs.map((r) => r.floorCyclesPerSecond),
        ),
        figure(
          `ratio_k${k}`,
          `1 ÷ 2 (cycle vs floor), K=${k}`,
          '×',
          runs.map((r) => r.ratio),
          { op: '>=', value: 0.5 },
        ),
        figure(
          `parent_cpu_ms_per_cycle_k${k}`,
          `parent CPU per claim cycle, K=${k}`,
          'ms',
          runs.map((r) => r.parentCpuMsPerCycle),
        ),
        figure(
          `parent_cpu_ms_per_floor_cycle_k${k}`,
          `parent CPU per 3 heartbeats, K=${k}`,
          'ms',
          runs.map((r) => r.parentCpuMsPerFloorCycle),
        ),
        figure(
          `healthz_p99_ms_k${k}`,
          `GET /healthz p99 during the cycles, K=${k}`,
          'ms',
          runs.map((r) => r.healthzP99Ms),
        ),
        figure(
          `load_cpu_percent_k${k}`,
          `load generator CPU during the cycles, K=${k}`,
          '% of a core',
          runs.map((r) => r.loadCpuPercent),
        ),
      );
    }
    return {
      parameters: {
        allocations,
        concurrency: levels,
        floor_route: 'POST /api/v1/cascade/heartbeat',
        warm_up_requests: WARM_UP_REQUESTS,
      },
      note: options.quick ? `quick: ${allocations} allocations per run instead of 2,000` : null,
      figures,
    };
  },
};
