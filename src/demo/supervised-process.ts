import type { ChildProcess } from 'node:child_process';

export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null };

/** A spawned process seen from its parent: whether it still runs, how it ended, and a stop that always ends it. */
export type SupervisedProcess = {
  process: ChildProcess;
  exited: Promise<ProcessExit>;
  readonly running: boolean;
  /** SIGTERM (a graceful close), then SIGKILL after `graceMs` if it has not exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
};

export function supervise(child: ChildProcess): SupervisedProcess {
  let running = true;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 10_000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running && child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
