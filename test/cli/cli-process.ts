import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Runs the real CLI (src/cli/main.ts through tsx) as a child process, exactly as a user would. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** A temporary folder to run in (so no ./config.yaml of the repository is picked up) and its SQLite URL. */
export function tempWorkspace(): { dir: string; databaseUrl: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-cli-'));
  return { dir, databaseUrl: `sqlite:${join(dir, 'cascade.db')}` };
}

/** Only PATH and HOME from the outer environment: a developer's DATABASE_URL must never leak into a test. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

/** Everything each spawned process has written to stderr so far, kept from the first byte so no line is missed. */
const stderrSoFar = new WeakMap<ChildProcess, { text: string }>();

export type SpawnOptions = {
  cwd: string;
  env?: Record<string, string>;
  /** Written to standard input, which is then closed. */ stdin?: string;
};

export function spawnCascade(args: readonly string[], options: SpawnOptions): ChildProcess {
  const stdin = options.stdin === undefined ? 'ignore' : 'pipe';
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env ?? {}),
    stdio: [stdin, 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  const transcript = { text: '' };
  stderrSoFar.set(child, transcript);
  child.stderr?.on('data', (chunk: Buffer) => (transcript.text += chunk.toString('utf8')));
  return child;
}

/** How much stderr the process has written; pass it as `from` to wait only for lines written after this point. */
export function stderrMark(child: ChildProcess): number {
  return stderrSoFar.get(child)?.text.length ?? 0;
}

export function runCascade(args: readonly string[], options: SpawnOptions): Promise<CliResult> {
  const child = spawnCascade(args, options);
  return collect(child);
}

/** Resolves when the process exits, with everything it wrote. */
export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Waits until the process's stderr (where the logger writes), from offset `from` on, matches `pattern`, or fails at
 * the deadline. Text written before the call counts, so a line that raced ahead of the listener is not missed.
 */
export function waitForStderr(
  child: ChildProcess,
  pattern: RegExp,
  { from = 0, timeoutMs = 45_000 } = {},
): Promise<RegExpMatchArray> {
  const transcript = stderrSoFar.get(child);
  if (!transcript) throw new Error('waitForStderr needs a process started by spawnCascade');
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = transcript.text.slice(from).match(pattern);
      if (match) done(undefined, match);
      return match !== null;
    };
    const timer = setTimeout(
      () => done(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr:\n${transcript.text}`)),
      timeoutMs,
    );
    const onData = (): void => void check();
    const onExit = (code: number | null): void => {
      if (!check()) done(new Error(`process exited (${code}) before writing ${pattern}; stderr:\n${transcript.text}`));
    };
    function done(error: Error | undefined, match?: RegExpMatchArray): void {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match as RegExpMatchArray);
    }
    // Registered after the transcript's own listener, so each chunk is already appended when this runs.
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    check();
  });
}
