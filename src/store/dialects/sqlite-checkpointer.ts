import { Worker } from 'node:worker_threads';
import type { Database as BetterSqlite3Database } from 'better-sqlite3';

/**
 * Why a worker: in WAL mode SQLite copies the WAL back into the database file inside whichever COMMIT crosses
 * `wal_autocheckpoint` pages, with its page copies and fsyncs, on the parent's only thread. On the claim-cycle
 * benchmark that was about 60 % of the cost of a commit. The main connection therefore runs with
 * `wal_autocheckpoint = 0`, and a worker thread with its own connection to the same file checkpoints instead.
 * The worker never writes rows; SQLite lets a checkpoint run beside a writer, and the WAL stays small.
 */

/** `state[0]` of the buffer shared with the worker: who may open, who must close, and when closing is done. */
export const CheckpointerState = Object.freeze({
  /** The worker has not opened its connection yet; stopping now means it never will. */
  starting: 0,
  running: 1,
  stopRequested: 2,
  /** The worker's connection is closed (or was never opened). */
  stopped: 3,
});

export type CheckpointerWorkerData = {
  state: SharedArrayBuffer;
  filename: string;
  intervalMs: number;
  resetAboveFrames: number;
  busyTimeoutMs: number;
};

export type CheckpointerLogger = { warn(details: object, message: string): void };

export type CheckpointerOptions = {
  /** The main connection: back to automatic checkpoints if the worker fails. */
  database: BetterSqlite3Database;
  /** The database file the worker opens. */
  filename: string;
  logger: CheckpointerLogger;
  /** Pause between PASSIVE checkpoints. */
  intervalMs?: number | undefined;
  /** WAL length (frames) at which the worker also tries a RESTART checkpoint; see the worker. */
  resetAboveFrames?: number | undefined;
};

export type SqliteCheckpointer = {
  /** Stops the worker and returns once its connection is closed (or after STOP_WAIT_MS). Idempotent. */
  stop(): void;
  /** Settles when the worker thread has exited, for whatever reason. */
  readonly exited: Promise<void>;
};

/** In-process claim cycles ran alike with 250 ms and 1 s; shorter pauses only add wake-ups and fsyncs. */
const DEFAULT_INTERVAL_MS = 500;
/** 4,000 frames of 4 KiB: a WAL of about 16 MB before the worker insists on starting it over. */
const DEFAULT_RESET_ABOVE_FRAMES = 4000;
/**
 * A RESTART checkpoint holds the write lock while it waits for other processes' readers (the CLI), so the
 * parent's writers wait as long as the worker does: keep that short and try again on the next round instead.
 */
const WORKER_BUSY_TIMEOUT_MS = 100;
/** SQLite's own default for `wal_autocheckpoint`, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;
/** Longest close() waits for the worker to finish a checkpoint in progress and close its connection. */
const STOP_WAIT_MS = 2000;

export function startSqliteCheckpointer(options: CheckpointerOptions): SqliteCheckpointer {
  const { database, logger } = options;
  const sharedState = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const state = new Int32Array(sharedState);
  const workerData: CheckpointerWorkerData = {
    state: sharedState,
    filename: options.filename,
    intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    resetAboveFrames: options.resetAboveFrames ?? DEFAULT_RESET_ABOVE_FRAMES,
    busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS,
  };
  database.pragma('wal_autocheckpoint = 0');
  const worker = spawnWorker(workerData);
  // A checkpointer must never keep the process alive; close() stops it, and so does the process exiting.
  worker.unref();

  let stopping = false;
  let failed = false;
  const fallBack = (details: object): void => {
    if (stopping || failed) return;
    failed = true;
    if (database.open) database.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    logger.warn(
      { ...details, database: options.filename },
      'SQLite checkpoint worker stopped; commits checkpoint the WAL themselves again',
    );
  };
  worker.on('error', (error) => fallBack({ err: error }));
  const exited = new Promise<void>((resolve) => {
    worker.on('exit', (exitCode) => {
      Atomics.store(state, 0, CheckpointerState.stopped);
      fallBack({ exitCode });
      resolve();
    });
  });

  return {
    exited,
    stop() {
      if (stopping) return;
      stopping = true;
      if (
        Atomics.compareExchange(state, 0, CheckpointerState.starting, CheckpointerState.stopped) ===
        CheckpointerState.starting
      )
        return;
      Atomics.compareExchange(state, 0, CheckpointerState.running, CheckpointerState.stopRequested);
      Atomics.notify(state, 0);
      // Blocking is fine here: the worker answers within one checkpoint, and a closing store has no other work.
      Atomics.wait(state, 0, CheckpointerState.stopRequested, STOP_WAIT_MS);
    },
  };
}

/**
 * Compiled (dist/), the worker is a .js file next to this one. Run from the TypeScript sources (tsx, vitest),
 * it is a .ts file that plain Node cannot load, and a worker does not inherit tsx's loader hooks from
 * `--import tsx` on Node 20; a small bootstrap registers tsx inside the worker before importing it.
 */
function spawnWorker(workerData: CheckpointerWorkerData): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const script = new URL(`./sqlite-checkpointer-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(script, { workerData });
  // Resolved here, not in the worker: an eval'd script resolves bare names from the working directory.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
