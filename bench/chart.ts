import { readFileSync, writeFileSync } from 'node:fs';
import { throughputChart } from './report/chart.js';
import type { BenchReport } from './run.js';

/** Redraws the throughput chart from a saved report: `node --import tsx bench/chart.ts [report.json] [chart.svg]`. */
const [reportFile = 'bench/results/latest.json', chartFile = 'docs/benchmarks-throughput.svg'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportFile, 'utf8')) as BenchReport;
const svg = throughputChart(
  report.scenarios,
  `${report.store}, ${report.machine.cpus} CPUs, Node ${report.machine.node}, median of ${report.runs_per_figure} runs`,
);
if (!svg) throw new Error(`${reportFile} has no claim-cycle figures to chart`);
writeFileSync(chartFile, svg);
