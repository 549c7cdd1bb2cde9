import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cascade-child-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = `CN${'a'.repeat(32)}`;
const SECRET = `CS${'b'.repeat(32)}`;

describe('cascade child: configuration checked at start', () => {
  it('exits 2 naming every missing setting', async () => {
    const run = await runCli(['child'], { cwd: dir, env: { CASCADE_NODE_TYPE: 'child' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cascade.parent_api_url');
    expect(run.stderr).toContain('cascade.api_key');
    expect(run.stderr).toContain('cascade.api_secret');
  });

  it('exits 2 naming the one missing secret', async () => {
    const run = await runCli(['child'], {
      cwd: dir,
      env: { CASCADE_PARENT_API_URL: 'http://127.0.0.1:9', CASCADE_API_KEY: KEY },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cascade.api_secret');
    expect(run.stderr).not.toContain('cascade.api_key:');
  });

  it('exits 2 when the executor module cannot be loaded', async () => {
    const run = await runCli(['child', '--once'], {
      cwd: dir,
      env: {
        CASCADE_PARENT_API_URL: 'http://127.0.0.1:9',
        CASCADE_API_KEY: KEY,
        CASCADE_API_SECRET: SECRET,
        CASCADE_EXECUTOR: './missing.js',
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cascade.executor');
  });
});
