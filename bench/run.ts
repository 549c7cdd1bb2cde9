import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { unreachableReason } from './lib/databases.js';
import { describeMachine } from './lib/machine.js';
import { parseOptions, type BenchOptions } from './lib/options.js';
import type { Scenario, ScenarioResult } from './lib/report-types.js';
import { throughputChart } from './report/chart.js';
import { markdownTable } from './report/table.js';
import { childFootprintScenario } from './scenarios/child-footprint.js';
import { claimCycleScenario } from './scenarios/claim-cycle.js';
import { crawlScenario } from './scenarios/crawl.js';
import { dispatchLatencyScenario } from './scenarios/dispatch-latency.js';
import { dispatchScenario } from './scenarios/dispatch.js';
import { peerScenario } from './scenarios/peer.js';
import { scaleScenario } from './scenarios/scale.js';

/** Every scenario, in report order. */
const SCENARIOS: readonly Scenario[] = [
  claimCycleScenario,
  dispatchScenario,
  dispatchLatencyScenario,
  scaleScenario,
  peerScenario,
  childFootprintScenario,
  crawlScenario,
];

export type BenchReport = {
  version: 1;
  mode: 'full' | 'quick';
  store: BenchOptions['store'];
  runs_per_figure: number;
  started_at: string;
  duration_s: number;
  machine: ReturnType<typeof describeMachine>;
  scenarios: ScenarioResult[];
};

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const unreachable = await unreachableReason(options.store);
  if (unreachable) {
    process.stderr.write(`bench: ${unreachable}\n`);
    return 2;
  }
  const started = Date.now();
  const log = (message: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  log(
    `Cascade benchmark: ${options.quick ? 'quick' : 'full'} run on ${options.store}, ${options.runs} run(s) per figure`,
  );
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (!options.only.has(scenario.id)) continue;
    const store = scenario.fixedStore ?? options.store;
    log(`— ${scenario.title} [store: ${store}]`);
    try {
      const outcome = await scenario.run({ options, log });
      if (outcome.status === 'skipped') log(`${scenario.id} ${outcome.note ?? 'skipped'}`);
      results.push({
        id: scenario.id,
        title: scenario.title,
        store,
        status: outcome.status ?? 'ok',
        note: outcome.note,
        parameters: outcome.parameters,
        figures: outcome.figures,
      });
    } catch (error) {
      log(`${scenario.id} failed: ${(error as Error).stack ?? String(error)}`);
      results.push({
        id: scenario.id,
        title: scenario.title,
        store,
        status: 'failed',
        note: `failed: ${(error as Error).message.split('\n')[0]}`,
        parameters: {},
        figures: [],
      });
    }
  }
  const report: BenchReport = {
    version: 1,
    mode: options.quick ? 'quick' : 'full',
    store: options.store,
    runs_per_figure: options.runs,
    started_at: new Date(started).toISOString(),
    duration_s: Math.round((Date.now() - started) / 100) / 10,
    machine: describeMachine(),
    scenarios: results,
  };
  mkdirSync(dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, `${JSON.stringify(report, null, 2)}\n`);
  if (options.chartFile) {
    const svg = throughputChart(
      results,
      `${report.store}, ${report.machine.cpus} CPUs, Node ${report.machine.node}, median of ${report.runs_per_figure} runs`,
    );
    if (svg) {
      mkdirSync(dirname(options.chartFile), { recursive: true });
      writeFileSync(options.chartFile, svg);
    }
  }
  process.stdout.write(`\n${markdownTable(results)}\n\n`);
  log(
    `done in ${report.duration_s} s; report: ${options.outFile}${options.chartFile ? `, chart: ${options.chartFile}` : ''}`,
  );
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

process.exitCode = await main();
