import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.js';
import { ADMIN, startTestParent } from '../helpers/parent.js';
import { runCascade } from './cli-process.js';

const mode = (path: string): string => `0${(statSync(path).mode & 0o777).toString(8)}`;

describe.skipIf(process.platform === 'win32')('store file modes and the JWT key (POSIX)', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cascade-modes-'));
  const dataDir = join(workspace, 'data');
  const dbFile = join(dataDir, 'cascade.db');
  const env = { DATABASE_URL: `sqlite:${dbFile}`, LOG_LEVEL: 'silent' };
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('cascade init creates the data directory 0700 and the store files 0600, whatever the umask allows', async () => {
    expect(process.umask() & 0o077).not.toBe(0o077); // the test means something only when the umask lets others read
    const init = await runCascade(['init', '--admin-password', ADMIN.password], { cwd: workspace, env });
    expect(init.code, init.stderr).toBe(0);
    expect(mode(dataDir)).toBe('0700');
    expect(mode(dbFile)).toBe('0600');
    for (const companion of [`${dbFile}-wal`, `${dbFile}-shm`])
      if (existsSync(companion)) expect(mode(companion)).toBe('0600');
    const check = await runCascade(['check', '--json'], { cwd: workspace, env });
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ file_modes: { errors: [], warnings: [] } });
  });

  it('cascade check fails on a store file others can read; opening the store narrows it with a warning', async () => {
    chmodSync(dbFile, 0o644);
    chmodSync(dataDir, 0o755);
    const check = await runCascade(['check'], { cwd: workspace, env });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(
      `FAIL  store file ${dbFile} is open to other users (mode 0644); run \`chmod 600 ${dbFile}\``,
    );
    expect(check.stdout).toContain(`WARN  data directory ${dataDir} is open to other users (mode 0755)`);
    expect(check.stderr).toContain('JWT signing key');
    // Opening the store (check does too) narrows the file, and says so.
    expect(check.stderr).toContain(`warning: ${dbFile} was readable by other users (mode 0644); changed to 0600`);
    expect(mode(dbFile)).toBe('0600');
    chmodSync(dbFile, 0o640);
    const list = await runCascade(['user', 'list'], { cwd: workspace, env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`warning: ${dbFile} was readable by other users (mode 0640); changed to 0600`);
    expect(mode(dbFile)).toBe('0600');
    chmodSync(dataDir, 0o700);
  });

  it('cascade token rotate-key makes every token issued before invalid', async () => {
    const minted = JSON.parse((await runCascade(['token', '--json'], { cwd: workspace, env })).stdout) as {
      access_token: string;
    };
    const before = await startTestParent({ databaseUrl: env.DATABASE_URL });
    try {
      expect((await api(before.url, '/api/v1/users', { token: minted.access_token })).status).toBe(200);
    } finally {
      await before.parent.close();
    }
    const rotated = await runCascade(['token', 'rotate-key'], { cwd: workspace, env });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('Every token issued before is invalid');
    expect(rotated.stdout).toContain('restart every parent process');
    const after = await startTestParent({ databaseUrl: env.DATABASE_URL });
    try {
      expect((await api(after.url, '/api/v1/users', { token: minted.access_token })).status).toBe(401);
      expect((await api(after.url, '/api/v1/users', { token: after.adminToken })).status).toBe(200);
    } finally {
      await after.close();
    }
  });

  it('cascade check warns when a child config file holding the node secret is readable by others', async () => {
    const childDir = mkdtempSync(join(tmpdir(), 'cascade-child-modes-'));
    try {
      const configPath = join(childDir, 'config.yaml');
      const secret = `CS${'s'.repeat(32)}`;
      writeFileSync(
        configPath,
        `cascade:\n  node_type: child\n  parent_api_url: http://127.0.0.1:9\n  api_key: CN${'k'.repeat(32)}\n  api_secret: ${secret}\n  data_dir: ${join(childDir, 'data')}\n`,
        { mode: 0o644 },
      );
      chmodSync(configPath, 0o644);
      const check = await runCascade(['check', '--config', configPath], {
        cwd: childDir,
        env: { LOG_LEVEL: 'silent' },
      });
      expect(check.stdout).toContain(
        `WARN  config file holds cascade.api_secret and ${configPath} is open to other users (mode 0644); run \`chmod 600 ${configPath}\``,
      );
      expect(check.stdout).not.toContain(secret);
      chmodSync(configPath, 0o600);
      const quiet = await runCascade(['check', '--config', configPath], {
        cwd: childDir,
        env: { LOG_LEVEL: 'silent' },
      });
      expect(quiet.stdout).not.toContain('WARN');
    } finally {
      rmSync(childDir, { recursive: true, force: true });
    }
  });
});
