import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../../../src/store/dialects/sqlite-statement-cache.js';

describe('SQLite statement cache', () => {
  it('prepares each SQL text once and the cached statement still runs with new parameters', () => {
    const raw = new BetterSqlite3(':memory:');
    const db = withStatementCache(raw);
    db.prepare('create table t (n integer)').run([]);
    const insert = db.prepare('insert into t (n) values (?)');
    expect(db.prepare('insert into t (n) values (?)')).toBe(insert);
    for (const n of [1, 2, 3]) db.prepare('insert into t (n) values (?)').run([n]);
    expect(db.prepare('select n from t order by n').all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(db.prepare('select n from t where n > ?').all([1])).toEqual([{ n: 2 }, { n: 3 }]);
    db.close();
    expect(raw.open).toBe(false);
  });

  it('keeps at most 500 texts: the oldest is prepared again after being pushed out', () => {
    const db = withStatementCache(new BetterSqlite3(':memory:'));
    const first = db.prepare('select 0 as n');
    for (let i = 1; i <= 500; i += 1) db.prepare(`select ${i} as n`);
    const again = db.prepare('select 0 as n');
    expect(again).not.toBe(first);
    expect(again.all([])).toEqual([{ n: 0 }]);
    expect(db.prepare('select 500 as n')).toBe(db.prepare('select 500 as n'));
    db.close();
  });
});
