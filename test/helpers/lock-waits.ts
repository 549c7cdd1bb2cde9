import { sql, type Kysely, type Transaction } from 'kysely';
import type { DialectName } from '../../src/store/dialects/capabilities.js';
import type { Database } from '../../src/store/tables.js';
import { waitFor } from './wait.js';

/**
 * What the database itself says about lock waits, so a race test can prove the race happened (the other statement
 * is waiting for a lock the test holds) before it asserts the outcome, instead of sleeping and hoping it has.
 * PostgreSQL: `pg_stat_activity.wait_event_type = 'Lock'` with the holder among `pg_blocking_pids`. MariaDB:
 * `information_schema.innodb_trx.trx_state = 'LOCK WAIT'` with the holder as the blocking transaction. SQLite runs
 * one writer at a time and has no lock waits to observe.
 */

/** The server's id of the connection `trx` runs on (PostgreSQL backend pid, MariaDB connection id). */
export async function connectionId(trx: Transaction<Database>, dialect: DialectName): Promise<number> {
  if (dialect === 'sqlite') throw new Error('SQLite has no lock waits to observe; skip this race test there');
  const query =
    dialect === 'postgres'
      ? sql<{ id: number }>`select pg_backend_pid() as id`
      : sql<{ id: number }>`select connection_id() as id`;
  const { rows } = await query.execute(trx);
  return Number(rows[0]?.id);
}

/** The text of every statement now waiting for a lock that connection `holderId` holds. */
export async function statementsBlockedBy(
  db: Kysely<Database>,
  dialect: DialectName,
  holderId: number,
): Promise<string[]> {
  if (dialect === 'postgres') {
    const { rows } = await sql<{ query: string }>`
      select query from pg_stat_activity
      where wait_event_type = 'Lock' and ${holderId}::int = any(pg_blocking_pids(pid))`.execute(db);
    return rows.map((row) => row.query);
  }
  if (dialect === 'mysql') {
    const { rows } = await sql<{ query: string | null }>`
      select waiting.trx_query as query
      from information_schema.innodb_trx waiting
      join information_schema.innodb_lock_waits w on w.requesting_trx_id = waiting.trx_id
      join information_schema.innodb_trx holder on holder.trx_id = w.blocking_trx_id
      where waiting.trx_state = 'LOCK WAIT' and holder.trx_mysql_thread_id = ${holderId}`.execute(db);
    return rows.map((row) => row.query ?? '');
  }
  throw new Error('SQLite has no lock waits to observe; skip this race test there');
}

/**
 * Polls until the database reports a statement matching `statement` waiting for a lock of `holderId`, and returns
 * the waiting statements; fails at the deadline naming `what`, so a race that never happened fails the test.
 */
export function waitUntilBlockedBy(
  db: Kysely<Database>,
  dialect: DialectName,
  holderId: number,
  what: string,
  statement: RegExp,
): Promise<string[]> {
  return waitFor(
    `${what} to wait for a lock the test holds (database: a statement matching ${statement} in a lock wait)`,
    async () => {
      const blocked = await statementsBlockedBy(db, dialect, holderId);
      return blocked.some((text) => statement.test(text)) ? blocked : undefined;
    },
  );
}
