import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from './databases.js';
import { holdOpenTransaction, openTestStore, type HeldTransaction } from './store.js';
import { databaseOf } from '../../src/store/store.js';

const stores: Store[] = [];
const held: HeldTransaction[] = [];
afterEach(async () => {
  for (const lock of held.splice(0)) await lock.release();
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describeEachStore(
  'waiting until the database reports a statement blocked',
  (dialect) => {
    it('sees nothing while nobody waits, then the statement waiting for the held row lock', async () => {
      const url = await dialect.createDatabase();
      const store = await openTestStore(url);
      stores.push(store);
      await databaseOf(store).insertInto('settings').values({ key: 'probe', value: 'a' }).execute();
      const lock = await holdOpenTransaction(url, (trx) =>
        sql`update settings set value = 'b' where ${sql.ref('key')} = 'probe'`.execute(trx),
      );
      held.push(lock);
      // Nothing waits yet: a check that always said "blocked" would let a race test pass without its race.
      expect(await lock.waitingStatements()).toEqual([]);
      const waiting = databaseOf(store)
        .updateTable('settings')
        .set({ value: 'c' })
        .where('key', '=', 'probe')
        .execute();
      const blocked = await lock.waitUntilBlocking('the second update', /update\W+settings/i);
      expect(blocked.some((text) => /update\W+settings/i.test(text))).toBe(true);
      await held.splice(0)[0]?.release();
      await waiting;
      expect(
        (
          await databaseOf(store)
            .selectFrom('settings')
            .select('value')
            .where('key', '=', 'probe')
            .executeTakeFirstOrThrow()
        ).value,
      ).toBe('c');
    });
  },
  { only: ['postgres', 'mysql'] },
);
