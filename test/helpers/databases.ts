import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, inject, it } from 'vitest';

/**
 * The stores a test run covers. SQLite always; PostgreSQL and MySQL/MariaDB when their admin URL is set
 * (`.ci/run` sets both). Each test creates its own database from the admin URL and drops it afterwards.
 */
export type StoreVariantName = 'sqlite' | 'postgres' | 'mysql';
export type StoreVariant = {
  readonly name: StoreVariantName;
  readonly label: string;
  readonly adminUrl: string | null;
};

export const SERVER_VARIANTS = [
  { name: 'postgres', label: 'PostgreSQL', envVar: 'CASCADE_TEST_POSTGRES_URL' },
  { name: 'mysql', label: 'MySQL/MariaDB', envVar: 'CASCADE_TEST_MYSQL_URL' },
] as const;

export const SQLITE_VARIANT: StoreVariant = { name: 'sqlite', label: 'SQLite', adminUrl: null };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Variants whose database the global setup reached (or, locally, did not skip). */
    cascadeStoreVariants: StoreVariant[];
    /** Why each server variant this run does not cover was left out, by variant name. */
    cascadeSkippedStores: Partial<Record<StoreVariantName, string>>;
  }
}

/** Why a server variant is left out: the global setup's finding, else the environment's. */
function skipReason(server: (typeof SERVER_VARIANTS)[number]): string {
  try {
    const reason = inject('cascadeSkippedStores')[server.name];
    if (reason) return reason;
  } catch {
    // Outside vitest's global setup (a single file run by hand): only the environment is known.
  }
  return `${server.envVar} is not set`;
}

/** Every variant configured by the environment, before any reachability check. */
export function configuredStoreVariants(env: NodeJS.ProcessEnv = process.env): StoreVariant[] {
  const servers = SERVER_VARIANTS.flatMap((v) => {
    const adminUrl = env[v.envVar];
    return adminUrl ? [{ name: v.name, label: v.label, adminUrl }] : [];
  });
  return [SQLITE_VARIANT, ...servers];
}

/** The variants this run covers: what the global setup provided, else what the environment names. */
function storeVariants(): StoreVariant[] {
  let provided: StoreVariant[] | undefined;
  try {
    provided = inject('cascadeStoreVariants');
  } catch {
    provided = undefined;
  }
  return provided ?? configuredStoreVariants();
}

export type TestDatabase = { readonly url: string; drop(): Promise<void> };

/** A new, empty, uniquely named database (`cascade_t_<pid>_<random>`) on the variant's server. */
export async function createTestDatabase(variant: StoreVariant): Promise<TestDatabase> {
  const name = `cascade_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (variant.name === 'sqlite' || variant.adminUrl === null) {
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    return {
      url: `sqlite:${join(dir, 'cascade.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = variant.adminUrl;
  const url = withDatabase(adminUrl, name);
  if (variant.name === 'postgres') {
    await withPostgres(adminUrl, (client) => client.query(`create database "${name}"`));
    return {
      url,
      drop: () =>
        withPostgres(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`)).then(
          () => undefined,
        ),
    };
  }
  // The server's default character set and collation on purpose: the migration must pin utf8mb4_bin itself.
  await withMysql(adminUrl, (connection) => connection.query(`create database \`${name}\``));
  return {
    url,
    drop: () =>
      withMysql(adminUrl, (connection) => connection.query(`drop database if exists \`${name}\``)).then(
        () => undefined,
      ),
  };
}

/** The admin URL pointing at another database on the same server, keeping credentials and query options. */
function withDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withPostgres<T>(adminUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function withMysql<T>(
  adminUrl: string,
  use: (connection: Awaited<ReturnType<typeof createConnection>>) => Promise<T>,
): Promise<T> {
  const connection = await createConnection({ uri: adminUrl, connectTimeout: 5000 });
  try {
    return await use(connection);
  } finally {
    await connection.end();
  }
}

export type StoreUnderTest = {
  readonly variant: StoreVariant;
  /** A fresh database URL on this variant; dropped after the suite. */
  createDatabase(): Promise<string>;
};

/**
 * Runs the suite once per store variant, with the variant in the title (`nodes store [PostgreSQL]`). `only`
 * limits it to some variants (several parents need a server database; SQLite serves one parent process).
 */
export function describeEachStore(
  name: string,
  fn: (store: StoreUnderTest) => void,
  options: { only?: readonly StoreVariantName[] } = {},
): void {
  const active = storeVariants();
  // A variant this run does not cover still shows up, as a skipped suite that says why (and a file whose every
  // variant is a server store never ends up with no suite at all).
  for (const server of SERVER_VARIANTS) {
    if (options.only && !options.only.includes(server.name)) continue;
    if (active.some((v) => v.name === server.name)) continue;
    describe.skip(`${name} [${server.label}]: skipped, ${skipReason(server)}`, () => {
      it(`runs when ${server.envVar} names a reachable server`, () => undefined);
    });
  }
  for (const variant of active.filter((v) => !options.only || options.only.includes(v.name))) {
    describe(`${name} [${variant.label}]`, () => {
      const created: TestDatabase[] = [];
      // Registered first, so with vitest's stacked hooks it runs after the suite's own afterAll closed its stores.
      afterAll(async () => {
        for (const database of created.splice(0)) await database.drop();
      });
      fn({
        variant,
        async createDatabase() {
          const database = await createTestDatabase(variant);
          created.push(database);
          return database.url;
        },
      });
    });
  }
}
