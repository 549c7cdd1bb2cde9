import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/load.js';
import { connectDatabase } from '../../src/store/connect.js';
import { openStore, type Store } from '../../src/store/store.js';

/**
 * The stores every store test runs against: SQLite always; PostgreSQL and MySQL/MariaDB when
 * CASCADE_TEST_POSTGRES_URL / CASCADE_TEST_MYSQL_URL name a server (skipped with a reason otherwise).
 */
export type DialectTarget = { name: 'sqlite' | 'postgres' | 'mysql'; serverUrl: string | undefined; skipReason: string | undefined };

export function dialectTargets(env: NodeJS.ProcessEnv = process.env): DialectTarget[] {
  const server = (name: 'postgres' | 'mysql', variable: string): DialectTarget => {
    const serverUrl = env[variable];
    return { name, serverUrl, skipReason: serverUrl ? undefined : `${variable} is not set` };
  };
  return [
    { name: 'sqlite', serverUrl: undefined, skipReason: undefined },
    server('postgres', 'CASCADE_TEST_POSTGRES_URL'),
    server('mysql', 'CASCADE_TEST_MYSQL_URL'),
  ];
}

export type TestStore = { store: Store; close(): Promise<void> };

/** A migrated store in a database of its own (a fresh SQLite file, or a new database on the server). */
export async function openTestStore(target: DialectTarget): Promise<TestStore> {
  if (target.name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-store-'));
    const store = await storeAt(`sqlite:${join(dir, 'store.db')}`);
    return {
      store,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = target.serverUrl;
  if (!serverUrl) throw new Error(`${target.name}: ${target.skipReason ?? 'no server'}`);
  const database = `cascade_test_${randomBytes(6).toString('hex')}`;
  const admin = await connectDatabase({ url: serverUrl });
  try {
    // MariaDB's server default is often latin1; the store keeps UTF-8 text (feed names in any script).
    const charset = target.name === 'mysql' ? sql` character set utf8mb4` : sql``;
    await sql`create database ${sql.id(database)}${charset}`.execute(admin.db);
  } finally {
    await admin.db.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const store = await storeAt(url.toString());
  return {
    store,
    async close() {
      await store.close();
      const cleanup = await connectDatabase({ url: serverUrl });
      try {
        await sql`drop database ${sql.id(database)}`.execute(cleanup.db);
      } finally {
        await cleanup.db.destroy();
      }
    },
  };
}

async function storeAt(url: string): Promise<Store> {
  const config = loadConfig({ env: {}, overrides: { 'database.url': url } });
  const store = await openStore(config);
  await store.migrate();
  return store;
}
