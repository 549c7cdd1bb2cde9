import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { runCli } from '../helpers/cli.js';

type MigrateJson = { database: string; dry_run: boolean; pending: string[]; applied: string[] };
type CheckJson = { dialect: string; server_version: string; migrations: { applied: string[]; pending: string[] } };

// The real CLI as a process (`node --import tsx src/cli/main.ts …`) against SQLite, PostgreSQL and MySQL/MariaDB.
describeEachStore('cascade migrate and cascade db check', (dialect) => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'cascade-cli-'));
    env = { DATABASE_URL: await dialect.createDatabase() };
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('lists every migration as pending on a new database and changes nothing with --dry-run', async () => {
    const first = await runCli(['migrate', '--dry-run', '--json'], { cwd, env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as MigrateJson;
    expect(report).toMatchObject({ dry_run: true, applied: [] });
    expect(report.pending).toContain('001-initial');
    const again = JSON.parse((await runCli(['migrate', '--dry-run', '--json'], { cwd, env })).stdout) as MigrateJson;
    expect(again.pending).toEqual(report.pending);
  });

  it('db check reports the server version and the pending migrations', async () => {
    const check = await runCli(['db', 'check', '--json'], { cwd, env });
    // A SQLite file that does not exist yet is "unreachable" for db check (it would otherwise be created).
    if (dialect.variant.name === 'sqlite') {
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(/does not exist; run `cascade init`/);
      return;
    }
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout) as CheckJson;
    expect(report.dialect).toBe(dialect.variant.name);
    expect(report.server_version).toMatch(/\d+\.\d+/);
    expect(report.migrations.pending).toContain('001-initial');
  });

  it('applies pending migrations, then has nothing left to apply', async () => {
    const applied = await runCli(['migrate'], { cwd, env });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(
      /applied 15 migration\(s\)\n {2}001-initial\n {2}002-claim-order-index\n {2}003-drop-node-status-index\n {2}004-unassigned-work-function\n {2}005-article-key-per-feed\n {2}006-user-token-generation\n {2}007-liveness-and-validators\n {2}008-deliveries\n {2}009-article-ext\n {2}010-node-secret-encryption\n {2}011-allocation-change-index\n {2}012-sealed-webhook-secrets\n {2}013-host-politeness\n {2}014-feed-rhythm\n {2}015-warm-placement-and-progress/,
    );
    const second = JSON.parse((await runCli(['migrate', '--json'], { cwd, env })).stdout) as MigrateJson;
    expect(second).toMatchObject({ dry_run: false, pending: [], applied: [] });
    const check = await runCli(['db', 'check'], { cwd, env });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/migrations: +up to date \(15 applied\)/);
    expect(check.stdout).toMatch(/server version: +\S/);
  });

  it.runIf(dialect.variant.name !== 'sqlite')(
    'db check exits 1 and says why when the server is unreachable (server stores only: a SQLite file has no server)',
    async () => {
      const url = new URL(env.DATABASE_URL as string);
      url.port = '9'; // discard port: nothing listens there
      url.password = 'not-to-be-printed';
      const check = await runCli(['db', 'check'], { cwd, env: { DATABASE_URL: url.toString() } });
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(/cannot connect/);
      expect(check.stderr).not.toContain('not-to-be-printed');
    },
  );
});
