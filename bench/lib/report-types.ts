import type { BenchOptions, ScenarioId } from './options.js';
import { median } from './stats.js';

export type Target = { op: '>=' | '<='; value: number };

/** One figure of the report: the median of its runs, with the target it is held against. */
export type Figure = {
  key: string;
  label: string;
  unit: string;
  /** Median of `runs`; null when the figure could not be measured. */
  value: number | null;
  runs: number[];
  target: Target | null;
  /** Whether the median meets the target (null without a target). */
  met: boolean | null;
};

export type ScenarioStatus = 'ok' | 'skipped' | 'not-run' | 'failed';

export type ScenarioResult = {
  id: ScenarioId;
  title: string;
  /** The store the scenario measured: the run's `--store`, or the one it always needs (peer: PostgreSQL). */
  store: string;
  status: ScenarioStatus;
  /** Why it was skipped or failed, or what a quick run changed. */
  note: string | null;
  /** The sizes this run used (feeds, nodes, concurrency…). */
  parameters: Record<string, unknown>;
  figures: Figure[];
};

export type BenchContext = {
  options: BenchOptions;
  log(message: string): void;
};

export type Scenario = {
  id: ScenarioId;
  title: string;
  /** Set when the scenario does not use the run's `--store`. */
  fixedStore?: 'postgres';
  run(
    context: BenchContext,
  ): Promise<Omit<ScenarioResult, 'id' | 'title' | 'status' | 'store'> & { status?: ScenarioStatus }>;
};

export function figure(
  key: string,
  label: string,
  unit: string,
  runs: readonly number[],
  target: Target | null = null,
): Figure {
  const finite = runs.filter((v) => Number.isFinite(v));
  const value = finite.length > 0 ? median(finite) : null;
  const met =
    target === null || value === null ? null : target.op === '>=' ? value >= target.value : value <= target.value;
  return { key, label, unit, value, runs: [...runs], target, met };
}
