import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectDatabase, type Connection } from '../../src/store/dialects/connect.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { initialMigration } from '../../src/store/migrations/001-initial.js';
import { claimOrderIndexMigration } from '../../src/store/migrations/002-claim-order-index.js';
import { dropNodeStatusIndexMigration } from '../../src/store/migrations/003-drop-node-status-index.js';
import { unassignedWorkFunctionMigration } from '../../src/store/migrations/004-unassigned-work-function.js';
import type { ArticleTable, Database } from '../../src/store/tables.js';
import { describeEachStore } from '../helpers/databases.js';

/** A row as release 004 stored it (before 009 added `ext`). */
const article = (id: string, mp_id: string, title: string): Omit<ArticleTable, 'ext'> => ({
  id,
  mp_id,
  title,
  url: `https://example.com/${id}`,
  pic_url: '',
  description: 'd',
  content: '内容',
  content_markdown: '',
  publish_time: 1_700_000_000,
  allocation_id: 'a1',
  node_id: 'n1',
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_001,
});

const allRows = async (db: Kysely<Database>) =>
  (await db.selectFrom('articles').selectAll().orderBy('mp_id').orderBy('id').execute()).map((r) => ({
    ...r,
    publish_time: Number(r.publish_time),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  }));

describeEachStore('migration 005: articles keyed by (mp_id, id)', (store) => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await connectDatabase({ url: await store.createDatabase() });
  });
  afterAll(async () => connection?.db.destroy());

  it('keeps every stored article and then lets two feeds hold the same id', async () => {
    const { db, caps } = connection;
    // The store as release 004 left it, with articles in it.
    const before004 = new Migrator({
      db,
      provider: {
        getMigrations: async () => ({
          '001-initial': initialMigration(caps),
          '002-claim-order-index': claimOrderIndexMigration(caps),
          '003-drop-node-status-index': dropNodeStatusIndexMigration(caps),
          '004-unassigned-work-function': unassignedWorkFunctionMigration(caps),
        }),
      },
      migrationTableName: 'cascade_migrations',
      migrationLockTableName: 'cascade_migrations_lock',
    });
    expect((await before004.migrateToLatest()).error).toBeUndefined();
    const stored = [article('x1', 'MP_A', 'first'), article('x2', 'MP_B', 'second')];
    await db.insertInto('articles').values(stored).execute();
    await expect(
      db
        .insertInto('articles')
        .values(article('x1', 'MP_B', 'clash'))
        .execute(),
    ).rejects.toThrow();

    expect(await migrateToLatest(db, caps)).toEqual([
      '005-article-key-per-feed',
      '006-user-token-generation',
      '007-liveness-and-validators',
      '008-deliveries',
      '009-article-ext',
      '010-node-secret-encryption',
      '011-allocation-change-index',
      '012-sealed-webhook-secrets',
      '013-host-politeness',
      '014-feed-rhythm',
      '015-warm-placement-and-progress',
    ]);
    expect(await allRows(db)).toEqual(stored.map((row) => ({ ...row, ext: null })));
    await db
      .insertInto('articles')
      .values(article('x1', 'MP_B', 'same id, other feed'))
      .execute();
    await expect(
      db
        .insertInto('articles')
        .values(article('x1', 'MP_A', 'duplicate key'))
        .execute(),
    ).rejects.toThrow();
    expect((await allRows(db)).map((r) => [r.mp_id, r.id, r.title])).toEqual([
      ['MP_A', 'x1', 'first'],
      ['MP_B', 'x1', 'same id, other feed'],
      ['MP_B', 'x2', 'second'],
    ]);
    // The feed's newest-first listing still has its index.
    if (caps.dialect === 'sqlite') {
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'articles'`.execute(db);
      expect(indexes.rows.map((r) => r.name)).toContain('articles_feed_time_idx');
    }
  });
});
