import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { supervise, type SupervisedProcess } from '../../src/demo/supervised-process.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI: the run drives the same program an operator runs. */
export const CASCADE_BIN = fileURLToPath(new URL('../../bin/cascade', import.meta.url));

/**
 * Every process the run started, each the leader of its own process group. They are SIGKILLed when the runner
 * exits, however it exits (an error, the hard time cap, Ctrl-C), so a failed run leaves nothing behind.
 */
const started = new Set<SupervisedProcess>();

export function track<T extends SupervisedProcess>(handle: T): T {
  started.add(handle);
  void handle.exited.then(() => started.delete(handle));
  return handle;
}

/** A signal to the process's whole group; a group that is already gone is not an error. */
export function signalGroup(handle: SupervisedProcess, signal: NodeJS.Signals): void {
  const pid = handle.process.pid;
  if (pid === undefined || !handle.running) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Exited between the check and the signal.
  }
}

export function killEveryProcess(): void {
  for (const handle of started) signalGroup(handle, 'SIGKILL');
}

export type ParentHandle = SupervisedProcess & { url: string; port: number };

/** `bin/cascade parent` on port 0; resolves with its URL once it listens, rejects if it exits or is slow first. */
export function startParentProcess(options: {
  databaseUrl: string;
  logFile: string;
  env: Record<string, string>;
  timeoutMs: number;
}): Promise<ParentHandle> {
  const child = spawn(process.execPath, [CASCADE_BIN, 'parent'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  child.stderr?.pipe(createWriteStream(options.logFile, { flags: 'a' }));
  const handle = track(supervise(child));
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      signalGroup(handle, 'SIGKILL');
      reject(new Error(`parent did not listen within ${options.timeoutMs} ms; see ${options.logFile}`));
    }, options.timeoutMs);
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const url = listeningUrl(line);
        if (!url) continue;
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve(Object.assign(handle, { url, port: Number(new URL(url).port) }));
        return;
      }
    };
    child.stderr?.on('data', onData);
    void handle.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`parent exited before listening (code ${code}, signal ${signal}); see ${options.logFile}`));
    });
  });
}

function listeningUrl(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { url?: unknown };
    return typeof entry.url === 'string' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

/** The last error lines of a JSON log: the final `fatal` entry, or what an unhandled error printed on stderr. */
export function crashHint(logFile: string): string {
  let tail = '';
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, 16_384));
      readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      tail = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
  const lines = tail.split('\n').filter((line) => line.trim() !== '');
  const errors = lines
    .filter((line) =>
      line.startsWith('{') ? fatalMessage(line) !== undefined : /Unhandled|^\w*Error\b|^cascade:/.test(line.trim()),
    )
    .slice(-3);
  return errors.map((line) => (fatalMessage(line) ?? line.trim()).slice(0, 160)).join(' / ');
}

/** A pino `fatal` (level 60) line's message and error, or undefined for any other line. */
function fatalMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    if (entry.level !== 60) return undefined;
    return `${String(entry.msg ?? 'fatal')}${typeof entry.err?.message === 'string' ? `: ${entry.err.message}` : ''}`;
  } catch {
    return undefined;
  }
}
