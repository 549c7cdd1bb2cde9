import type { Transaction } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTransientDatabaseError } from '../../../src/store/dialects/transient-error.js';
import type { Store } from '../../../src/store/store.js';
import { databaseOf } from '../../../src/store/store.js';
import type { Database } from '../../../src/store/tables.js';
import { describeEachStore } from '../../helpers/databases.js';
import { seedFeeds } from '../../helpers/seed.js';
import { holdOpenTransaction, openTestStore, type HeldTransaction } from '../../helpers/store.js';

/**
 * A completion locks rows that other transactions lock too: the host rows of its allocation (a claim locks them with
 * `ORDER BY host FOR UPDATE`) and its feed rows (an article upload updates them in key order). Taken in another
 * order, two such transactions deadlock and the database gives up on one of them (a 503 to a child). Each test holds
 * the first of two rows on a second connection, as the other transaction would, waits until the database reports the
 * completion waiting for it, then takes the second row: in one order that is a wait, in the other a deadlock.
 */
describeEachStore(
  'the completion locks rows in the order the claim and the upload do',
  (dialect) => {
    let url: string;
    let store: Store;
    let nodeId: string;
    beforeAll(async () => {
      url = await dialect.createDatabase();
      store = await openTestStore(url, {
        'politeness.enabled': true,
        'politeness.max_in_flight_per_host': 100,
        'politeness.min_interval_ms_per_host': 0,
      });
      nodeId = (await store.nodes.create({ node_type: 1, name: 'child-0', sync_config: { max_capacity: 10 } })).node.id;
    });
    afterAll(async () => store?.close());

    /** One executing allocation of the given feeds (fetched from the given URLs), held by the node. */
    async function executing(prefix: string, urls: readonly string[]): Promise<{ id: string; feedIds: string[] }> {
      const feedIds = await seedFeeds(store, urls.length, prefix);
      for (const [i, feedId] of feedIds.entries())
        await databaseOf(store)
          .updateTable('feeds')
          .set({ url: urls[i] as string })
          .where('id', '=', feedId)
          .execute();
      const now = Date.now();
      await store.allocations.dispatch({
        taskId: `task-${prefix}`,
        taskName: prefix,
        feedIds,
        scheduleRunId: `run-${prefix}`,
        nowMs: now,
        feedsPerAllocation: urls.length,
        offlineAfterSeconds: 180,
      });
      const [row] = await store.allocations.claim(nodeId, 1);
      if (!row) throw new Error('nothing claimed');
      await store.allocations.start(row.id, nodeId);
      return { id: row.id, feedIds };
    }

    /** Completes while the held transaction waits for the completion's second row; returns what gave up on a lock. */
    async function completeAgainst(
      held: HeldTransaction,
      complete: () => Promise<unknown>,
      waitingStatement: RegExp,
      finish: (trx: Transaction<Database>) => Promise<unknown>,
    ): Promise<string[]> {
      const gaveUp: string[] = [];
      const giveUp = (who: string) => (error: unknown) => {
        if (!isTransientDatabaseError(error)) throw error;
        gaveUp.push(`${who}: ${(error as Error).message}`);
      };
      const completion = complete().catch(giveUp('completion'));
      try {
        await held.waitUntilBlocking('the completion', waitingStatement);
      } finally {
        await held.release(finish).catch(giveUp('the other transaction'));
      }
      await completion;
      return gaveUp;
    }

    it('gives host slots back in the order the claim locks the host rows', async () => {
      // 'x1.com' sorts before 'x_y.com' in the database ('1' is 0x31, '_' 0x5F) and after it for localeCompare.
      const { id, feedIds } = await executing('hosts', ['http://x_y.com/feed.xml', 'http://x1.com/feed.xml']);
      const hosts = await databaseOf(store).selectFrom('host_state').select('host').orderBy('host').execute();
      const [first, second] = hosts.map((h) => h.host);
      expect([first, second]).toEqual(['x1.com', 'x_y.com']);
      // A claim of other work on these hosts, halfway through its `ORDER BY host FOR UPDATE`.
      const lockHost = (host: string) => (trx: Transaction<Database>) =>
        trx.selectFrom('host_state').select('host').where('host', '=', host).forUpdate().execute();
      const held = await holdOpenTransaction(url, lockHost(first as string));
      const gaveUp = await completeAgainst(
        held,
        () =>
          store.allocations.complete(
            id,
            nodeId,
            feedIds.map((mp) => ({ mp_id: mp, status: 'success', article_count: 0 })),
            0,
          ),
        /host_state/,
        lockHost(second as string),
      );
      expect(gaveUp).toEqual([]);
      expect((await store.allocations.views.get(id))?.status).toBe('completed');
      const inFlight = await databaseOf(store).selectFrom('host_state').select(['host', 'in_flight']).execute();
      expect(inFlight.every((h) => Number(h.in_flight) === 0)).toBe(true);
    });

    it('writes its feeds in key order, as an article upload does, whatever order the report names them in', async () => {
      const { id, feedIds } = await executing('fed', ['http://fa.example.com/a.xml', 'http://fb.example.net/b.xml']);
      const [first, second] = [...feedIds].sort();
      // An upload for an earlier allocation of the same feeds (a child's outbox repeating it late), halfway through
      // its feed counters.
      const countArticle = (feedId: string) => (trx: Transaction<Database>) =>
        trx
          .updateTable('feeds')
          .set((eb) => ({ article_count: eb('article_count', '+', 1) }))
          .where('id', '=', feedId)
          .execute();
      const held = await holdOpenTransaction(url, countArticle(first as string));
      const gaveUp = await completeAgainst(
        held,
        () =>
          store.allocations.complete(
            id,
            nodeId,
            // The report names the feeds in the other order.
            [second, first].map((mp) => ({ mp_id: mp as string, status: 'success', article_count: 0 })),
            0,
          ),
        // PostgreSQL's completion is one statement, whose text the server cuts at 1 kB: its start says which.
        /update [`"]?feeds[`"]? set|^\s*with moved as \(\s*update allocations/i,
        countArticle(second as string),
      );
      expect(gaveUp).toEqual([]);
      expect((await store.allocations.views.get(id))?.status).toBe('completed');
      const counts = await databaseOf(store)
        .selectFrom('feeds')
        .select(['article_count', 'sync_time'])
        .where('id', 'in', feedIds)
        .execute();
      expect(counts.map((f) => [Number(f.article_count), f.sync_time !== null])).toEqual([
        [1, true],
        [1, true],
      ]);
    });
  },
  { only: ['postgres', 'mysql'] },
);
