import { workerData as untypedWorkerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { CheckpointerState, type CheckpointerWorkerData } from './sqlite-checkpointer.js';

/**
 * The checkpoint worker started by sqlite-checkpointer.ts: its own connection to the parent's database file,
 * no writes. Each round copies what the WAL holds into the database file (PASSIVE: it never waits and never
 * blocks the parent's writers). A writer starts the WAL over from its beginning only when a checkpoint has
 * copied all of it and nothing was committed since, which a busy parent may never allow (checkpoint
 * starvation); so once the WAL is long the worker also tries RESTART: it waits (busy_timeout) for a moment
 * between the parent's transactions, copies the few frames committed since the PASSIVE round while holding
 * the write lock, and so makes the next commit write from the start of the file again. RESTART rather than
 * TRUNCATE: the file keeps its size, bounded by this threshold, and commits overwrite blocks already
 * allocated instead of growing the file again.
 */

type CheckpointResult = { busy: number; log: number; checkpointed: number };

const settings = untypedWorkerData as CheckpointerWorkerData;
const state = new Int32Array(settings.state);

function checkpoint(database: BetterSqlite3.Database): void {
  const [passive] = database.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
  if (passive && passive.log >= settings.resetAboveFrames) database.pragma('wal_checkpoint(RESTART)');
}

function run(): void {
  if (
    Atomics.compareExchange(state, 0, CheckpointerState.starting, CheckpointerState.running) !==
    CheckpointerState.starting
  )
    return;
  let database: BetterSqlite3.Database | undefined;
  try {
    database = new BetterSqlite3(settings.filename, { fileMustExist: true });
    database.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    // The thread has nothing else to do, so it sleeps on the shared state: stop() wakes it at once.
    while (Atomics.wait(state, 0, CheckpointerState.running, settings.intervalMs) === 'timed-out') checkpoint(database);
  } finally {
    database?.close();
    Atomics.store(state, 0, CheckpointerState.stopped);
    Atomics.notify(state, 0);
  }
}

run();
