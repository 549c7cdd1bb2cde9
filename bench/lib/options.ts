export type StoreKind = 'sqlite' | 'postgres' | 'mysql';

export const SCENARIO_IDS = [
  'claim-cycle',
  'dispatch',
  'dispatch-latency',
  'scale',
  'peer',
  'child-footprint',
  'crawl',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export type BenchOptions = {
  quick: boolean;
  store: StoreKind;
  /** Runs per figure; each run uses a fresh database. */
  runs: number;
  /** Scenarios to run (all by default). */
  only: ReadonlySet<ScenarioId>;
  /** Where the JSON report goes. */
  outFile: string;
  /** Where the throughput chart goes (null: not written). */
  chartFile: string | null;
  /** The crawl scenario's corpus seed (the same seed gives the same corpus and origin answers). */
  seed: number;
};

/** The crawl scenario's seed unless `--seed` says otherwise: fixed, so that runs on different days compare. */
const DEFAULT_SEED = 17;

const USAGE = `usage: npm run bench -- [--quick] [--store sqlite|postgres|mysql] [--runs N] [--only a,b] [--out FILE] [--chart FILE|none] [--seed N]
scenarios: ${SCENARIO_IDS.join(', ')}`;

/** Parses the runner's flags; an unknown flag or value stops with the usage text. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    quick: false,
    store: 'sqlite',
    runs: 3,
    only: new Set(SCENARIO_IDS),
    outFile: 'bench/results/latest.json',
    chartFile: 'docs/benchmarks-throughput.svg',
    seed: DEFAULT_SEED,
  };
  let chartSet = false;
  let outSet = false;
  let runsSet = false;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      i += 1;
      return next;
    };
    if (flag === '--quick') options.quick = true;
    else if (flag === '--store') {
      const store = value();
      if (store !== 'sqlite' && store !== 'postgres' && store !== 'mysql')
        throw new Error(`--store must be sqlite, postgres or mysql, not '${store}'\n${USAGE}`);
      options.store = store;
    } else if (flag === '--runs') {
      const runs = Number(value());
      if (!Number.isInteger(runs) || runs < 1 || runs > 20)
        throw new Error(`--runs must be an integer 1..20\n${USAGE}`);
      options.runs = runs;
      runsSet = true;
    } else if (flag === '--only') {
      const ids = value()
        .split(',')
        .map((s) => s.trim());
      const unknown = ids.filter((id) => !(SCENARIO_IDS as readonly string[]).includes(id));
      if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
      options.only = new Set(ids as ScenarioId[]);
    } else if (flag === '--out') {
      options.outFile = value();
      outSet = true;
    } else if (flag === '--chart') {
      const chart = value();
      options.chartFile = chart === 'none' ? null : chart;
      chartSet = true;
    } else if (flag === '--seed') {
      const seed = Number(value());
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new Error(`--seed must be an integer 0..4294967295\n${USAGE}`);
      options.seed = seed;
    } else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown flag '${flag}'\n${USAGE}`);
  }
  // A quick run is a smoke run: it must not overwrite the reference report or chart unless asked to.
  if (options.quick && !chartSet) options.chartFile = null;
  if (options.quick && !outSet) options.outFile = 'bench/results/quick.json';
  // A quick run spawns fewer processes: one run per figure unless --runs says otherwise.
  if (options.quick && !runsSet) options.runs = 1;
  return options;
}
