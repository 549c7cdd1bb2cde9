import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startParent } from '../../src/parent/parent.js';
import { api } from '../helpers/http.js';
import { runCascade, tempWorkspace } from './cli-process.js';

type Json = Record<string, unknown>;

describe('passwords reach the CLI without showing in ps; the parent record cannot be removed', () => {
  const { dir, databaseUrl } = tempWorkspace();
  const env = { DATABASE_URL: databaseUrl };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Logs in on a parent over the workspace's store, then closes it. */
  async function canLogIn(username: string, password: string): Promise<boolean> {
    const parent = await startParent(
      loadConfig({
        env: {},
        overrides: { host: '127.0.0.1', port: 0, 'database.url': databaseUrl, 'scheduler.enabled': false },
      }),
      createLogger('silent'),
    );
    try {
      return (await api(parent.url, '/api/v1/auth/login', { json: { username, password } })).status === 200;
    } finally {
      await parent.close();
    }
  }

  it('init --password-stdin takes the admin password from standard input', async () => {
    const init = await runCascade(['init', '--password-stdin', '--json'], {
      cwd: dir,
      env,
      stdin: 'stdin-admin-password\n',
    });
    expect(init.code, init.stderr).toBe(0);
    expect((JSON.parse(init.stdout) as { admin: Json }).admin).toEqual({ created: true });
    expect(await canLogIn('admin', 'stdin-admin-password')).toBe(true);
  });

  it('user add --password-stdin and user passwd with $CASCADE_PASSWORD; a flag and stdin together are refused', async () => {
    const added = await runCascade(['user', 'add', 'reader', '--password-stdin'], {
      cwd: dir,
      env,
      stdin: 'reader-password-1\n',
    });
    expect(added.code, added.stderr).toBe(0);
    expect(await canLogIn('reader', 'reader-password-1')).toBe(true);
    const changed = await runCascade(['user', 'passwd', 'reader'], {
      cwd: dir,
      env: { ...env, CASCADE_PASSWORD: 'reader-password-2' },
    });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).not.toContain('reader-password-2');
    expect(await canLogIn('reader', 'reader-password-2')).toBe(true);
    const both = await runCascade(['user', 'passwd', 'reader', '--password', 'x-password-3', '--password-stdin'], {
      cwd: dir,
      env,
      stdin: 'y-password-4\n',
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });

  it("node remove refuses the parent's own record, as the API does", async () => {
    const listed = await runCascade(['node', 'list', '--json'], { cwd: dir, env });
    const parentNode = (JSON.parse(listed.stdout) as Array<{ id: string; node_type: number }>).find(
      (n) => n.node_type === 0,
    );
    expect(parentNode).toBeDefined();
    const removed = await runCascade(['node', 'remove', parentNode!.id], { cwd: dir, env });
    expect(removed.code).not.toBe(0);
    expect(removed.stderr).toContain('only parent node record');
    const after = await runCascade(['node', 'list', '--json'], { cwd: dir, env });
    expect((JSON.parse(after.stdout) as Array<{ id: string }>).map((n) => n.id)).toContain(parentNode!.id);
  });
});
