import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Connection } from '../../src/store/dialects/connect.js';
import { migrateToLatest, migrationState } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/tables.js';
import { describeEachStore } from '../helpers/databases.js';

type SchemaShape = Record<string, Array<{ column: string; nullable: boolean }>>;

async function schemaShape(db: Kysely<Database>): Promise<SchemaShape> {
  const tables = await db.introspection.getTables();
  const shape: SchemaShape = {};
  for (const table of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    shape[table.name] = table.columns
      .map((c) => ({ column: c.name, nullable: c.isNullable }))
      .sort((a, b) => a.column.localeCompare(b.column));
  }
  return shape;
}

function columnNames(shape: SchemaShape): Record<string, string[]> {
  return Object.fromEntries(Object.entries(shape).map(([table, columns]) => [table, columns.map((c) => c.column)]));
}

/** SQLite in memory is the reference every other dialect's schema must match, table for table, column for column. */
let reference: SchemaShape;
beforeAll(async () => {
  const { db, caps } = await connectDatabase({ url: 'sqlite::memory:' });
  await migrateToLatest(db, caps);
  reference = await schemaShape(db);
  await db.destroy();
});

describe('reference schema', () => {
  it('has every table of the store', () => {
    expect(Object.keys(reference)).toEqual(
      expect.arrayContaining([
        'allocation_attempts',
        'allocation_feeds',
        'allocations',
        'articles',
        'cascade_migrations',
        'feeds',
        'live_feeds',
        'message_tasks',
        'nodes',
        'schedule_ticks',
        'settings',
        'sync_logs',
        'users',
      ]),
    );
  });
});

describeEachStore('migrations', (store) => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await connectDatabase({ url: await store.createDatabase() });
  });
  afterAll(async () => connection?.db.destroy());

  it('applies every migration on an empty database', async () => {
    const pendingBefore = (await migrationState(connection.db, connection.caps)).filter(
      (m) => m.executedAt === undefined,
    );
    expect(pendingBefore.map((m) => m.name)).toContain('001-initial');
    const applied = await migrateToLatest(connection.db, connection.caps);
    expect(applied).toEqual(pendingBefore.map((m) => m.name));
    const after = await migrationState(connection.db, connection.caps);
    expect(after.every((m) => m.executedAt instanceof Date)).toBe(true);
  });

  it('changes nothing when run again', async () => {
    const before = await schemaShape(connection.db);
    expect(await migrateToLatest(connection.db, connection.caps)).toEqual([]);
    expect(await schemaShape(connection.db)).toEqual(before);
  });

  it('builds the same tables and columns as every other dialect', async () => {
    const shape = await schemaShape(connection.db);
    expect(columnNames(shape)).toEqual(columnNames(reference));
    // SQLite reports a text PRIMARY KEY as nullable (a legacy quirk), so nullability is compared one way: a column
    // nullable here must be nullable in the reference; every NOT NULL of the reference must hold here.
    for (const [table, columns] of Object.entries(shape)) {
      for (const { column, nullable } of columns) {
        const expected = reference[table]?.find((c) => c.column === column);
        if (nullable)
          expect({ table, column, nullable: expected?.nullable }).toEqual({ table, column, nullable: true });
        if (expected?.nullable === false)
          expect({ table, column, nullable }).toEqual({ table, column, nullable: false });
      }
    }
  });
});
