import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { isTransientDatabaseError } from '../../../src/store/dialects/transient-error.js';
import { describeEachStore } from '../../helpers/databases.js';
import { openTestStore } from '../../helpers/store.js';
import { databaseOf } from '../../../src/store/store.js';

describeEachStore(
  'PostgreSQL prepared statements',
  (dialect) => {
    const stores: Store[] = [];
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });
    const open = async (preparedStatements: boolean) => {
      // One connection, so the session the statements were prepared in is the one asked about.
      const store = await openTestStore(await dialect.createDatabase(), {
        'database.pool_size': 1,
        'database.prepared_statements': preparedStatements,
      });
      stores.push(store);
      return store;
    };
    const prepared = async (store: Store) =>
      (
        await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(
          databaseOf(store),
        )
      ).rows;

    it('each distinct statement is prepared once per connection and reused', async () => {
      const store = await open(true);
      for (let i = 0; i < 3; i += 1)
        await databaseOf(store).selectFrom('nodes').select('id').where('name', '=', `node-${i}`).execute();
      const statements = (await prepared(store)).filter((s) => s.statement.includes('from "nodes" where "name" = $1'));
      expect(statements).toHaveLength(1);
      expect(statements[0]?.name).toMatch(/^cascade_\d+$/);
    });

    it('with database.prepared_statements off nothing is prepared', async () => {
      const store = await open(false);
      await databaseOf(store).selectFrom('nodes').select('id').where('name', '=', 'x').execute();
      expect(await prepared(store)).toEqual([]);
    });

    it('a statement whose table changed under it fails once, then runs unprepared', async () => {
      const store = await open(true);
      await sql`create table probe (a integer)`.execute(databaseOf(store));
      await sql`insert into probe values (1)`.execute(databaseOf(store));
      const read = () => sql<{ a: number }>`select * from probe`.execute(databaseOf(store));
      expect((await read()).rows).toEqual([{ a: 1 }]);
      // What a migration from another process does: the prepared `select *` no longer matches its table.
      await sql`alter table probe add column b integer`.execute(databaseOf(store));
      const failure = await read().catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: '0A000' });
      // Answered 503 with Retry-After, like any database hiccup a repeat gets past.
      expect(isTransientDatabaseError(failure)).toBe(true);
      expect((await read()).rows).toEqual([{ a: 1, b: null }]);
    });

    it('a parameter node-postgres cannot serialise fails that call only, not every later call of the same statement', async () => {
      const store = await open(true);
      const read = (value: unknown) =>
        sql<{ x: string }>`select cast(${value} as text) as x`.execute(databaseOf(store));
      expect((await read('a')).rows).toEqual([{ x: 'a' }]);
      await expect(read({ n: 1n })).rejects.toThrow(/BigInt/);
      // node-postgres answers a failed Bind by closing the named statement on the server while it still counts it
      // as parsed; the text must run unnamed from now on, or every later call on this connection fails with 26000.
      expect((await read('b')).rows).toEqual([{ x: 'b' }]);
    });
  },
  { only: ['postgres'] },
);
