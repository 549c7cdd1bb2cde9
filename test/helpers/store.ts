import type { Transaction } from 'kysely';
import { loadConfig } from '../../src/config/load.js';
import { connectDatabase } from '../../src/store/dialects/connect.js';
import { connectionId, statementsBlockedBy, waitUntilBlockedBy } from './lock-waits.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { Database } from '../../src/store/tables.js';

/** A migrated store over `databaseUrl`, configured from defaults plus dotted-path overrides. */
export async function openTestStore(databaseUrl: string, overrides: Record<string, unknown> = {}): Promise<Store> {
  // Test feeds share a host or two: stores weigh hosts only in the tests about politeness.
  const config = loadConfig({
    env: {},
    overrides: { 'database.url': databaseUrl, 'politeness.enabled': false, ...overrides },
  });
  const store = await openStore(config);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export type HeldTransaction = {
  /**
   * Lets the transaction commit, waits for it, and closes the second connection; `finish`, when given, runs in the
   * transaction first (the rest of what the other parent does, after the test saw who waits on it).
   */
  release(finish?: (trx: Transaction<Database>) => Promise<unknown>): Promise<void>;
  /**
   * Resolves once the database reports a statement matching `statement` waiting for a lock this transaction holds
   * (not on SQLite), with the text of every statement waiting on it; fails at the deadline naming `what`.
   */
  waitUntilBlocking(what: string, statement: RegExp): Promise<string[]>;
  /** The text of every statement waiting for a lock this transaction holds, now (not on SQLite). */
  waitingStatements(): Promise<string[]>;
};

/**
 * Plays another parent (or the sweeper) on a second connection: runs `work` in a transaction and keeps that
 * transaction open, its row locks held, until `release()`. Resolves once `work` has run.
 */
export async function holdOpenTransaction(
  url: string,
  work: (trx: Transaction<Database>) => Promise<unknown>,
): Promise<HeldTransaction> {
  const other = await connectDatabase({ url });
  type Finish = ((trx: Transaction<Database>) => Promise<unknown>) | undefined;
  let letGo!: (finish: Finish) => void;
  const held = new Promise<Finish>((resolve) => (letGo = resolve));
  let workDone!: () => void;
  const ran = new Promise<void>((resolve) => (workDone = resolve));
  let holderId: number | undefined;
  const committed = other.db.transaction().execute(async (trx) => {
    await work(trx);
    if (other.caps.rowLocks) holderId = await connectionId(trx, other.caps.dialect);
    workDone();
    await (
      await held
    )?.(trx);
  });
  const lockHolder = (): number => {
    if (holderId === undefined) throw new Error(`${other.caps.dialect} has no row locks to wait on`);
    return holderId;
  };
  // A failing `work` must not leave the caller waiting for `ran`.
  await Promise.race([ran, committed]);
  return {
    async release(finish) {
      letGo(finish);
      try {
        await committed;
      } finally {
        await other.db.destroy();
      }
    },
    // Another connection of the same pool watches: the held one is busy in its transaction.
    waitUntilBlocking(what, statement) {
      return waitUntilBlockedBy(other.db, other.caps.dialect, lockHolder(), what, statement);
    },
    waitingStatements() {
      return statementsBlockedBy(other.db, other.caps.dialect, lockHolder());
    },
  };
}
