import { freshDatabase, type FreshDatabase } from './databases.js';
import type { StoreKind } from './options.js';
import { spawnScript, type ScriptProcess } from './script-process.js';
import type { NodeCredentials } from './seed.js';

const PARENT_SCRIPT = 'bench/processes/parent.ts';
const LOAD_SCRIPT = 'bench/load/children.ts';

/** Runs `work` on a fresh database and drops it afterwards, whatever happens. */
export async function withFreshDatabase<T>(store: StoreKind, work: (db: FreshDatabase) => Promise<T>): Promise<T> {
  const db = await freshDatabase(store);
  try {
    return await work(db);
  } finally {
    await db.drop();
  }
}

export type RunningParent = { url: string; pid: number; process: ScriptProcess };

/** Starts the parent in its own process over `databaseUrl`, runs `work`, stops it. */
export async function withParent<T>(
  databaseUrl: string,
  overrides: Record<string, unknown>,
  work: (parent: RunningParent) => Promise<T>,
): Promise<T> {
  // CASCADE_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every parent process there (for finding what bounds a figure).
  const profileDir = process.env.CASCADE_BENCH_CPU_PROF;
  const proc = spawnScript(
    PARENT_SCRIPT,
    { databaseUrl, overrides },
    {},
    profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  );
  try {
    const ready = await proc.next<{ url: string; pid: number }>('ready', 60_000);
    return await work({ url: ready.url, pid: ready.pid, process: proc });
  } finally {
    await proc.stop();
  }
}

/** Starts the load generator (simulated children) in its own process, runs `work`, stops it. */
export async function withLoad<T>(
  parentUrl: string,
  nodes: readonly NodeCredentials[],
  work: (load: ScriptProcess) => Promise<T>,
): Promise<T> {
  const proc = spawnScript(LOAD_SCRIPT, { parentUrl, nodes });
  try {
    await proc.next('ready', 60_000);
    return await work(proc);
  } finally {
    await proc.stop();
  }
}

export type LoadErrors = { count: number; first: string };

export function assertNoErrors(what: string, errors: LoadErrors): void {
  if (errors.count > 0) throw new Error(`${what}: ${errors.count} failed request(s); first: ${errors.first}`);
}
