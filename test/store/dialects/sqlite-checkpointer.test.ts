import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { startSqliteCheckpointer } from '../../../src/store/dialects/sqlite-checkpointer.js';
import { openStore, databaseOf } from '../../../src/store/store.js';
import { waitFor } from '../../helpers/wait.js';

type Warning = { details: object; message: string };

const dir = mkdtempSync(join(tmpdir(), 'cascade-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function walDatabase(name: string): { database: BetterSqlite3.Database; filename: string } {
  const filename = join(dir, name);
  const database = new BetterSqlite3(filename);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.exec('create table t (n integer primary key, payload blob)');
  return { database, filename };
}

function recordingLogger(): { warnings: Warning[]; warn(details: object, message: string): void } {
  const warnings: Warning[] = [];
  return { warnings, warn: (details, message) => void warnings.push({ details, message }) };
}

/** The WAL header's checkpoint sequence number: it goes up each time a writer starts the WAL over. */
function walSequence(filename: string): number | undefined {
  if (!existsSync(`${filename}-wal`) || statSync(`${filename}-wal`).size < 32) return undefined;
  const header = Buffer.alloc(16);
  const fd = openSync(`${filename}-wal`, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(12);
}

const autocheckpoint = (database: BetterSqlite3.Database): unknown =>
  database.pragma('wal_autocheckpoint', { simple: true });

describe('SQLite checkpoint worker', () => {
  it('copies the WAL into the database file and starts the WAL over while the main connection keeps writing', async () => {
    const { database, filename } = walDatabase('writes.db');
    const logger = recordingLogger();
    const checkpointer = startSqliteCheckpointer({ database, filename, logger, intervalMs: 20, resetAboveFrames: 50 });
    try {
      // The main connection no longer checkpoints: whatever reaches the database file, the worker copied.
      expect(autocheckpoint(database)).toBe(0);
      const insert = database.prepare('insert into t (payload) values (?)');
      const write = async (): Promise<void> => {
        for (let i = 0; i < 20; i += 1) insert.run(Buffer.alloc(3000));
        await new Promise((resolve) => setTimeout(resolve, 5));
      };
      const sizeBefore = statSync(filename).size;
      await write();
      const firstSequence = walSequence(filename);
      expect(firstSequence).toBeDefined();
      await waitFor('the worker to copy pages into the database file', async () => {
        await write();
        return statSync(filename).size > sizeBefore ? true : undefined;
      });
      await waitFor('a writer to start the WAL over', async () => {
        await write();
        const sequence = walSequence(filename);
        return sequence !== undefined && sequence !== firstSequence ? true : undefined;
      });
      expect(database.prepare('select count(*) as n from t').get()).toMatchObject({ n: expect.any(Number) });
      expect(logger.warnings).toEqual([]);
    } finally {
      checkpointer.stop();
      database.close();
    }
  });

  it('stop() closes the worker’s connection before it returns, and the thread exits', async () => {
    const { database, filename } = walDatabase('stop.db');
    const logger = recordingLogger();
    const checkpointer = startSqliteCheckpointer({ database, filename, logger, intervalMs: 20 });
    const sizeBefore = statSync(filename).size;
    database.prepare('insert into t (payload) values (?)').run(Buffer.alloc(100_000));
    await waitFor('the worker to checkpoint once', () => (statSync(filename).size > sizeBefore ? true : undefined));
    checkpointer.stop();
    database.close();
    // SQLite deletes the WAL when the last connection to the file closes: the worker's was already closed.
    expect(existsSync(`${filename}-wal`)).toBe(false);
    await checkpointer.exited;
    expect(logger.warnings).toEqual([]);
  });

  it('goes back to automatic checkpoints, and says so once, when the worker fails', async () => {
    const { database } = walDatabase('fails.db');
    const logger = recordingLogger();
    // The worker opens only existing files, so it fails at once (as it would on an unreadable file).
    const checkpointer = startSqliteCheckpointer({
      database,
      filename: join(dir, 'missing', 'gone.db'),
      logger,
      intervalMs: 20,
    });
    await checkpointer.exited;
    expect(autocheckpoint(database)).toBe(1000);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]?.message).toMatch(/checkpoint worker stopped/);
    checkpointer.stop();
    database.close();
  });
});

describe('SQLite store with the checkpoint worker', () => {
  it('turns automatic checkpoints off for a file database, and closing the store closes every connection', async () => {
    const filename = join(dir, 'store.db');
    const store = await openStore(loadConfig({ env: {}, overrides: { 'database.url': `sqlite:${filename}` } }));
    try {
      await store.migrate();
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(databaseOf(store));
      expect(rows[0]?.wal_autocheckpoint).toBe(0);
      const sizeBefore = statSync(filename).size;
      let written = 0;
      await waitFor('the worker to copy the store’s writes into the database file', async () => {
        for (let i = 0; i < 50; i += 1)
          await store.settings.getOrCreate(`checkpoint-test-${(written += 1)}`, () => 'x'.repeat(500));
        return statSync(filename).size > sizeBefore ? true : undefined;
      });
    } finally {
      await store.close();
    }
    expect(existsSync(`${filename}-wal`)).toBe(false);
  });

  it('keeps automatic checkpoints for a memory database, which has no file a worker could open', async () => {
    const store = await openStore(loadConfig({ env: {}, overrides: { 'database.url': 'sqlite::memory:' } }));
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(databaseOf(store));
      expect(rows[0]?.wal_autocheckpoint).toBe(1000);
    } finally {
      await store.close();
    }
  });

  it('lets a process exit on its own after closing its store (no handle left behind)', async () => {
    const script = [
      `import { openStore } from ${JSON.stringify(new URL('../../../src/store/store.ts', import.meta.url).href)};`,
      `import { loadConfig } from ${JSON.stringify(new URL('../../../src/config/load.ts', import.meta.url).href)};`,
      `const store = await openStore(loadConfig({ env: {}, overrides: { 'database.url': ${JSON.stringify(`sqlite:${join(dir, 'exit.db')}`)} } }));`,
      'await store.migrate();',
      'await store.close();',
      "console.log('closed');",
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    expect(stdout.trim()).toBe('closed');
  });
});
