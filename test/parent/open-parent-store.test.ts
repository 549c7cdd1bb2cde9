import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CascadeError } from '../../src/errors/cascade-error.js';
import { createLogger } from '../../src/logger.js';
import { openParentStore } from '../../src/parent/open-parent-store.js';
import { migrationState } from '../../src/store/migrate.js';
import { describeEachStore } from '../helpers/databases.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

/** The test database's URL, reached through a proxy that can play a server that is down. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describeEachStore(
  'a parent starting before its database is up',
  ({ variant, createDatabase }) => {
    let proxy: TcpProxy | undefined;
    afterEach(async () => proxy?.close());

    async function setUp(): Promise<{ config: ReturnType<typeof loadConfig>; proxy: TcpProxy }> {
      const databaseUrl = await createDatabase();
      const target = new URL(databaseUrl);
      proxy = await startTcpProxy({
        host: target.hostname,
        port: Number(target.port || (variant.name === 'postgres' ? 5432 : 3306)),
      });
      return {
        config: loadConfig({ env: {}, overrides: { 'database.url': throughProxy(databaseUrl, proxy) } }),
        proxy,
      };
    }

    it('waits, retrying, until the server answers, then opens and migrates the store', async () => {
      const { config, proxy } = await setUp();
      proxy.setFault({ kind: 'refuse' });
      const { logger, lines } = capturingLogger();
      const opening = openParentStore(config, logger, { waitMs: 60_000 });
      // The server is "down" until the parent has been refused at least twice: it retried rather than giving up.
      await waitFor('two refused attempts', () => (proxy.stats.refused >= 2 ? true : undefined), 30_000);
      proxy.setFault(null);
      const store = await opening;
      try {
        const migrations = await migrationState(databaseOf(store), store.caps);
        expect(migrations.length).toBeGreaterThan(0);
        expect(migrations.filter((m) => m.executedAt === undefined)).toEqual([]);
      } finally {
        await store.close();
      }
      const retries = lines.filter((line) => line.includes('database unreachable at startup; retrying'));
      expect(retries.length).toBeGreaterThanOrEqual(1);
    });

    it('gives up after the wait with an error that names the database and says what to check', async () => {
      const { config, proxy } = await setUp();
      proxy.setFault({ kind: 'refuse' });
      const { logger } = capturingLogger();
      const error = await openParentStore(config, logger, { waitMs: 1500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CascadeError);
      expect((error as CascadeError).code).toBe('UNAVAILABLE');
      expect((error as Error).message).toMatch(
        /did not answer for \d+ s .*check that it runs and that database\.url is right/,
      );
      expect(proxy.stats.refused).toBeGreaterThanOrEqual(2);
    });

    it('does not wait for an error that retrying cannot cure (a database that does not exist)', async () => {
      const { config, proxy } = await setUp();
      const url = new URL(String(config.database.url));
      url.pathname = '/cascade_no_such_database';
      const missing = loadConfig({ env: {}, overrides: { 'database.url': url.toString() } });
      const { logger, lines } = capturingLogger();
      let sleeps = 0;
      const sleep = async (): Promise<void> => {
        sleeps += 1;
      };
      const error = await openParentStore(missing, logger, { waitMs: 60_000, sleep }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(lines.filter((line) => line.includes('retrying'))).toEqual([]);
      // The refusal came from the server itself, through the proxy (not a connection that failed on the way), and
      // the parent never waited to try again.
      expect(proxy.forwarded).toBeGreaterThanOrEqual(1);
      expect(sleeps).toBe(0);
    });
  },
  { only: ['postgres', 'mysql'] },
);
