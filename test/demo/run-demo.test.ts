import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, TSX_NODE_ARGS } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const cwd = mkdtempSync(join(tmpdir(), 'cascade-demo-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('cascade demo', () => {
  it('while running prints the login and an API docs URL that answers, until Ctrl-C', async () => {
    const demo = spawn(process.execPath, [...TSX_NODE_ARGS, CLI_ENTRY, 'demo'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    let stdout = '';
    demo.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitFor('the demo to wait for Ctrl-C', () => (stdout.includes('Press Ctrl-C') ? true : undefined), 180_000);
      expect(stdout).toMatch(/admin login {4}username admin, password \S+/);
      const docsUrl = /API docs {7}(\S+)/.exec(stdout)?.[1];
      expect(docsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/docs$/);
      const docs = await fetch(docsUrl!);
      expect(docs.status).toBe(200);
      expect(stdout).toMatch(/^merged feed\s+http:\/\/127\.0\.0\.1:\d+\/feeds\/tasks\/\S+\.rss\?token=\S+$/m);
      expect(stdout).toMatch(/^console\s+http:\/\/127\.0\.0\.1:\d+\/$/m);
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 240_000);
});
