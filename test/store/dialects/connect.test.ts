import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, mysqlStatementTimeoutSql, type Connection } from '../../../src/store/dialects/connect.js';
import { migrateToLatest } from '../../../src/store/migrate.js';
import { describeEachStore } from '../../helpers/databases.js';

describe('mysqlStatementTimeoutSql', () => {
  it('uses max_statement_time in seconds on MariaDB', () => {
    expect(mysqlStatementTimeoutSql('10.11.19-MariaDB-0+deb12u1', 1500)).toBe('set session max_statement_time = 1.5');
  });
  it('uses max_execution_time in milliseconds on MySQL', () => {
    expect(mysqlStatementTimeoutSql('8.0.36', 1500)).toBe('set session max_execution_time = 1500');
  });
});

describeEachStore('connection', (dialect) => {
  let url: string;
  let connection: Connection;
  beforeAll(async () => {
    url = await dialect.createDatabase();
    connection = await connectDatabase({ url });
    await migrateToLatest(connection.db, connection.caps);
  });
  afterAll(async () => connection?.db.destroy());

  it('reports the server version', () => {
    expect(connection.caps.serverVersion).toMatch(/\d+\.\d+/);
  });

  it('returns BIGINT times, COUNT() and SUM() as numbers', async () => {
    const { db } = connection;
    const base = {
      node_type: 1,
      description: '',
      feed_quota: '{}',
      is_active: 1,
      load_feeds: 0,
      reported_tasks: 0,
      require_signed: 0,
    };
    // Past 2^32 and far past 2^31: a driver that truncates or stringifies BIGINT shows it here.
    const big = 4_102_444_800_123;
    await db
      .insertInto('nodes')
      .values([
        { ...base, id: 'n1', name: 'n1', max_capacity: 5, created_at: big, updated_at: big, last_heartbeat_at: big },
        { ...base, id: 'n2', name: 'n2', max_capacity: 7, created_at: 1, updated_at: 1, last_heartbeat_at: null },
      ])
      .execute();
    const row = await db
      .selectFrom('nodes')
      .select(['created_at', 'last_heartbeat_at', 'max_capacity'])
      .where('id', '=', 'n1')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ created_at: big, last_heartbeat_at: big, max_capacity: 5 });
    const totals = await db
      .selectFrom('nodes')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('max_capacity').as('capacity'),
        eb.fn.sum<number>('created_at').as('times'),
        eb.fn.max<number>('created_at').as('latest'),
      ])
      .executeTakeFirstOrThrow();
    expect(totals).toEqual({ n: 2, capacity: 12, times: big + 1, latest: big });
  });

  it.runIf(dialect.variant.name !== 'sqlite')(
    'runs transactions at READ COMMITTED, as every claim and move assumes (server stores only: SQLite has no isolation levels)',
    async () => {
      const query =
        dialect.variant.name === 'postgres'
          ? sql<{ level: string }>`select current_setting('transaction_isolation') as level`
          : /mariadb/i.test(connection.caps.serverVersion)
            ? sql<{ level: string }>`select @@session.tx_isolation as level`
            : sql<{ level: string }>`select @@session.transaction_isolation as level`;
      const { rows } = await query.execute(connection.db);
      expect(rows[0]?.level.toLowerCase().replace('-', ' ')).toBe('read committed');
    },
  );

  it.runIf(dialect.variant.name !== 'sqlite')(
    'opens no more connections than pool_size (server stores only: SQLite has one connection)',
    async () => {
      const small = await connectDatabase({ url, poolSize: 2 });
      try {
        const backendId =
          dialect.variant.name === 'postgres'
            ? sql<{ id: number }>`select pg_backend_pid() as id, pg_sleep(0.05)`
            : sql<{ id: number }>`select connection_id() as id, sleep(0.05)`;
        const ids = await Promise.all(
          Array.from({ length: 6 }, () => backendId.execute(small.db).then((r) => Number(r.rows[0]?.id))),
        );
        expect(new Set(ids).size).toBe(2);
      } finally {
        await small.db.destroy();
      }
    },
  );

  it.runIf(dialect.variant.name !== 'sqlite')(
    'cancels a statement that runs past statement_timeout_ms (server stores only: SQLite has no statement timeout)',
    async () => {
      const limited = await connectDatabase({ url, statementTimeoutMs: 200 });
      try {
        // Long enough that only the timeout can end it within the test's own timeout.
        const slow =
          dialect.variant.name === 'postgres'
            ? sql`select pg_sleep(120)`
            : sql`select count(*) from information_schema.columns a, information_schema.columns b, information_schema.columns c`;
        await expect(slow.execute(limited.db)).rejects.toThrow(
          /statement timeout|max_statement_time|max_execution_time|interrupted/i,
        );
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(limited.db);
        expect(Number(rows[0]?.one)).toBe(1);
      } finally {
        await limited.db.destroy();
      }
    },
  );

  it.runIf(dialect.variant.name !== 'sqlite')(
    'logs an idle connection killed by the server and keeps working (server stores only: SQLite has no server)',
    async () => {
      const warnings: string[] = [];
      const logger = { warn: (_details: object, message: string) => void warnings.push(message) };
      const victim = await connectDatabase({ url, poolSize: 1, logger });
      const killer = await connectDatabase({ url });
      try {
        const idQuery =
          dialect.variant.name === 'postgres'
            ? sql<{ id: number }>`select pg_backend_pid() as id`
            : sql<{ id: number }>`select connection_id() as id`;
        const id = Number((await idQuery.execute(victim.db)).rows[0]?.id);
        if (dialect.variant.name === 'postgres') await sql`select pg_terminate_backend(${id})`.execute(killer.db);
        else await sql.raw(`kill connection ${id}`).execute(killer.db);
        const deadline = Date.now() + 10_000;
        while (warnings.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(warnings.length).toBeGreaterThan(0);
        const after = Number((await idQuery.execute(victim.db)).rows[0]?.id);
        expect(after).not.toBe(id);
      } finally {
        await victim.db.destroy();
        await killer.db.destroy();
      }
    },
  );
});
