import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import type { StoreKind } from './options.js';
import { redactUrl } from '../../src/store/dialects/database-url.js';

export type FreshDatabase = { url: string; store: StoreKind; drop(): Promise<void> };

/** Admin URLs: a server login that may create and drop databases. */
function adminUrl(store: 'postgres' | 'mysql'): string {
  return store === 'postgres'
    ? (process.env.CASCADE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    : (process.env.CASCADE_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql');
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A new, empty database for one run; drop() removes it (and, for SQLite, its folder). */
export async function freshDatabase(store: StoreKind): Promise<FreshDatabase> {
  const name = `cascade_bench_${randomBytes(6).toString('hex')}`;
  if (store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-bench-'));
    return {
      store,
      url: `sqlite:${join(dir, 'bench.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (store === 'postgres') {
    const admin = adminUrl('postgres');
    await withPostgres(admin, (c) => c.query(`CREATE DATABASE ${name}`));
    return {
      store,
      url: withDatabase(admin, name),
      drop: () => withPostgres(admin, (c) => dropPostgres(c, name)),
    };
  }
  const admin = adminUrl('mysql');
  await withMysql(admin, (c) => c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`));
  return {
    store,
    url: withDatabase(admin, name),
    drop: () => withMysql(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name}`)).then(() => undefined),
  };
}

/** Why the store's server cannot be used, or null when it answers. */
export async function unreachableReason(store: StoreKind): Promise<string | null> {
  if (store === 'sqlite') return null;
  try {
    if (store === 'postgres') await withPostgres(adminUrl(store), (c) => c.query('select 1'));
    else await withMysql(adminUrl(store), (c) => c.query('select 1'));
    return null;
  } catch (error) {
    return `${store} at ${redactUrl(adminUrl(store))} is unreachable: ${(error as Error).message}`;
  }
}

/**
 * Waits (briefly) for the run's own pools to finish disconnecting before dropping: FORCE would otherwise kill
 * a connection that pg-pool is still closing, and its error would surface in this process.
 */
async function dropPostgres(client: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ n: string }>(
      'select count(*) as n from pg_stat_activity where datname = $1',
      [name],
    );
    if (Number(rows[0]?.n ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await client.query(`DROP DATABASE IF EXISTS ${name}`);
}

async function withPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function withMysql<T>(
  url: string,
  work: (connection: Awaited<ReturnType<typeof createConnection>>) => Promise<T>,
): Promise<T> {
  const connection = await createConnection({ uri: url, connectTimeout: 3000 });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}
