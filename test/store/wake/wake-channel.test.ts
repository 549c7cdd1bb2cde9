import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCrossProcessWake, type CrossProcessWake } from '../../../src/store/wake/cross-process-wake.js';
import type { Store } from '../../../src/store/store.js';
import type { WakeChannel } from '../../../src/store/wake/wake-channel.js';
import type pg from 'pg';
import { PostgresWakeChannel, WAKE_CHANNEL_NAME } from '../../../src/store/wake/wake-postgres.js';
import { describeEachStore } from '../../helpers/databases.js';
import { openTestStore } from '../../helpers/store.js';
import { waitFor } from '../../helpers/wait.js';
import { databaseOf } from '../../../src/store/store.js';

/** Counts wakes and lets a test wait, with a deadline, until the count passes a mark. */
function wakeCounter(channel: WakeChannel) {
  let count = 0;
  const unsubscribe = channel.subscribe(() => void count++);
  return {
    unsubscribe,
    get count() {
      return count;
    },
    async waitAbove(mark: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (count <= mark) {
        if (Date.now() > deadline)
          throw new Error(`no wake within ${timeoutMs} ms (count ${count}, waiting for > ${mark})`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

describeEachStore('cross-process wake channel', (dialect) => {
  // Two stores with their own pools and channels on one database stand in for two parent processes.
  let url: string;
  let storeA: Store;
  let storeB: Store;
  let wakeA: CrossProcessWake;
  let wakeB: CrossProcessWake;
  const warnings: string[] = [];
  const logger = { warn: (_details: object, message: string) => void warnings.push(message) };
  beforeAll(async () => {
    url = await dialect.createDatabase();
    storeA = await openTestStore(url);
    storeB = await openTestStore(url);
    wakeA = createCrossProcessWake(databaseOf(storeA), storeA.caps, url, logger, 50);
    wakeB = createCrossProcessWake(databaseOf(storeB), storeB.caps, url, logger, 50);
  });
  afterAll(async () => {
    await wakeA?.close();
    await wakeB?.close();
    await storeA?.close();
    await storeB?.close();
  });

  it('wakes a subscriber in the same process at once', async () => {
    const counter = wakeCounter(wakeA);
    const before = counter.count;
    await wakeA.publish();
    expect(counter.count).toBeGreaterThan(before);
    counter.unsubscribe();
  });

  it('wakes a subscriber of another parent when work is published', async () => {
    const counter = wakeCounter(wakeA);
    // After ready() the first (possibly spurious) wake of a fresh subscription has passed: only B can raise the count.
    await wakeA.ready();
    const mark = counter.count;
    await wakeB.publish();
    await counter.waitAbove(mark);
    counter.unsubscribe();
  });

  it('stops delivering after unsubscribe, and a throwing listener does not stop the others', async () => {
    let calls = 0;
    const unsubscribeBad = wakeA.subscribe(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = wakeA.subscribe(() => void calls++);
    await wakeA.publish();
    expect(calls).toBeGreaterThanOrEqual(1);
    unsubscribe();
    unsubscribe();
    unsubscribeBad();
    const afterUnsubscribe = calls;
    await wakeA.publish();
    await wakeA.ready();
    expect(calls).toBe(afterUnsubscribe);
  });

  it.runIf(dialect.variant.name === 'postgres')(
    're-listens after the LISTEN connection is killed (PostgreSQL only: LISTEN/NOTIFY)',
    async () => {
      const counter = wakeCounter(wakeA);
      await wakeA.ready();
      const beforeKill = counter.count;
      const killed = await sql<{
        n: number;
      }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and query ilike ${`listen ${WAKE_CHANNEL_NAME}%`}`.execute(
        databaseOf(storeB),
      );
      expect(killed.rows[0]?.n).toBeGreaterThanOrEqual(1);
      // Reconnecting wakes local subscribers (a notification may have been lost meanwhile); then B's publish arrives.
      await counter.waitAbove(beforeKill);
      await wakeA.ready();
      const mark = counter.count;
      await wakeB.publish();
      await counter.waitAbove(mark);
      expect(warnings).toContain('LISTEN connection lost; reconnecting');
      counter.unsubscribe();
    },
  );

  it.runIf(dialect.variant.name === 'postgres')(
    'a late error from a dead LISTEN client does not start a second LISTEN connection (PostgreSQL only)',
    async () => {
      const channel = new PostgresWakeChannel(databaseOf(storeA), url, logger);
      const internals = channel as unknown as {
        client: pg.Client | undefined;
        connect: () => void;
        reconnectTimer: NodeJS.Timeout | undefined;
      };
      const listening = async (): Promise<number> => {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike ${`listen ${WAKE_CHANNEL_NAME}%`}`.execute(
          databaseOf(storeB),
        );
        return rows[0]?.n ?? 0;
      };
      try {
        await channel.ready();
        const before = await listening();
        const dead = internals.client as pg.Client;
        // The late error arrives exactly while the replacement is connecting (the window in which a second reconnect
        // could start): injected right after the reconnect begins, not left to timing.
        const connect = internals.connect.bind(channel);
        let connects = 0;
        let lateErrorSent = false;
        let reconnectScheduledByLateError: boolean | undefined;
        internals.connect = () => {
          connects += 1;
          connect();
          if (lateErrorSent) return;
          lateErrorSent = true;
          dead.emit('error', new Error('a late error from the dead client (test)'));
          // lost() schedules a reconnect synchronously: a late error that reached it shows here at once, no waiting.
          reconnectScheduledByLateError = internals.reconnectTimer !== undefined;
        };
        dead.emit('error', new Error('connection reset (test)'));
        await waitFor(
          'the replacement LISTEN client',
          () => (internals.client !== undefined && internals.client !== dead ? true : undefined),
          20_000,
        );
        expect(lateErrorSent).toBe(true);
        expect(reconnectScheduledByLateError, 'the late error scheduled a second reconnect').toBe(false);
        expect(internals.reconnectTimer).toBeUndefined();
        expect(connects).toBe(1);
        await channel.ready();
        expect(await listening()).toBe(before);
      } finally {
        await channel.close();
      }
    },
  );
});
