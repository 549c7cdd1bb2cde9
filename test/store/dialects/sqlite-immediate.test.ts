import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDatabase, type Connection } from '../../../src/store/dialects/connect.js';

let connection: Connection | undefined;
let dir: string | undefined;
afterEach(async () => {
  await connection?.db.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A statement that keeps SQLite (and so, with better-sqlite3, the calling thread) busy for a while. */
const busyStatement = sql<{
  n: number;
}>`with recursive c(x) as (select 1 union all select x + 1 from c where x < 200000) select count(*) as n from c`;

describe('SQLite connection and the event loop', () => {
  it('a long transaction lets the event loop turn between its statements (a probe is not held for all of it)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cascade-sqlite-yield-'));
    connection = await connectDatabase({ url: `sqlite:${join(dir, 'c.db')}` });
    const { db } = connection;
    const order: string[] = [];
    let statements = 0;
    const transaction = db.transaction().execute(async (trx) => {
      for (let i = 0; i < 8; i++) {
        await busyStatement.execute(trx);
        statements += 1;
      }
      order.push(`transaction done after ${statements}`);
    });
    // Stands for a request waiting on the loop (a /healthz probe): it runs at the loop's next turn.
    setImmediate(() => order.push(`loop turned after ${statements}`));
    await transaction;
    expect(order[0], 'the loop turned before the transaction finished').toMatch(/^loop turned after [0-7]$/);
    expect(order).toHaveLength(2);
  });
});
