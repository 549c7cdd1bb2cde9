import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INVARIANTS, type InvariantName, type Violation } from './lib/invariants.js';
import { parseChaosOptions, USAGE, type ChaosOptions } from './lib/options.js';
import { killEveryProcess } from './lib/processes.js';
import { runScenario } from './lib/scenario.js';

/**
 * `npm run chaos`: a parent and four children as real processes over each store, faults injected from a seeded
 * plan, then every invariant checked. Exit 0 when all hold, 1 when one broke, 2 on bad usage, 3 at the time cap.
 */
const SETUP_AND_DRAIN_MS = 5 * 60_000;

function replayLine(options: ChaosOptions, store: string): string {
  const restart = options.serverRestart ? ` --server-restart '${options.serverRestart}'` : '';
  return `npm run chaos -- --seed ${options.seed} --store ${store} --minutes ${options.minutes}${restart}`;
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const storeArg = options.stores.length === 1 ? (options.stores[0]?.name ?? 'all') : 'all';
  say(`chaos: seed ${options.seed} (replay: ${replayLine(options, storeArg)})`);

  // The hard cap: whatever hangs, the run ends, and takes every process it started with it.
  const capMs = options.stores.length * (options.minutes * 60_000 + SETUP_AND_DRAIN_MS);
  const cap = setTimeout(() => {
    say(`chaos: hard time cap of ${Math.round(capMs / 1000)} s reached; stopping (seed ${options.seed})`);
    killEveryProcess();
    process.exit(3);
  }, capMs);
  cap.unref();

  const logRoot = options.logDir ? resolve(options.logDir) : mkdtempSync(join(tmpdir(), 'cascade-chaos-'));
  const broken: Array<{ store: string; violations: Violation[] }> = [];
  for (const variant of options.stores) {
    say(`\n== ${variant.label}: ${options.minutes} min of chaos (logs in ${join(logRoot, variant.name)})`);
    try {
      const result = await runScenario({
        seed: options.seed,
        variant,
        chaosMs: options.minutes * 60_000,
        logDir: join(logRoot, variant.name),
        log: say,
        serverRestart: options.serverRestart,
      });
      for (const line of result.summary) say(`   ${line}`);
      report(say, variant.label, result.violations);
      if (result.violations.length > 0) broken.push({ store: variant.name, violations: result.violations });
    } catch (error) {
      say(`   the run itself failed: ${(error as Error).stack ?? String(error)}`);
      broken.push({ store: variant.name, violations: [] });
    }
  }
  clearTimeout(cap);
  if (broken.length === 0 && !options.logDir) rmSync(logRoot, { recursive: true, force: true });
  say(
    `\nchaos: seed ${options.seed}: ${broken.length === 0 ? 'every invariant held' : `broken on ${broken.map((b) => b.store).join(', ')}`}`,
  );
  for (const b of broken) say(`  replay: ${replayLine(options, b.store)}`);
  if (broken.length > 0) say(`  logs kept in ${logRoot}`);
  return broken.length === 0 ? 0 : 1;
}

function report(say: (line: string) => void, label: string, violations: Violation[]): void {
  say(`   invariants on ${label}:`);
  for (const [name, meaning] of Object.entries(INVARIANTS) as Array<[InvariantName, string]>) {
    const mine = violations.filter((v) => v.invariant === name);
    say(
      `   ${mine.length === 0 ? 'ok    ' : 'BROKEN'} ${name}: ${meaning}${mine.length === 0 ? '' : ` (${mine.length})`}`,
    );
    for (const v of mine.slice(0, 10)) say(`            - ${v.detail}`);
    if (mine.length > 10) say(`            - … and ${mine.length - 10} more`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEveryProcess();
    process.exit(130);
  });
}
process.on('exit', killEveryProcess);
const exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
});
killEveryProcess();
process.exit(exitCode);
