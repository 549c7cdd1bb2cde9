import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { spawnParent, stopAllParents } from '../e2e/parent-processes.js';

const dir = mkdtempSync(join(tmpdir(), 'cascade-crash-'));
afterAll(async () => {
  await stopAllParents();
  rmSync(dir, { recursive: true, force: true });
});

describe('a crashing parent', () => {
  it.each([
    ['SIGUSR2', 'injected uncaught exception', 'uncaughtException'],
    ['SIGWINCH', 'injected unhandled rejection', 'unhandledRejection'],
  ] as const)(
    'after %s writes a final fatal JSON line with the error, then exits 1',
    async (signal, message, origin) => {
      const parent = await spawnParent(`sqlite:${join(dir, `${signal}.db`)}`, dir, `crash-${signal}`, {
        NODE_OPTIONS: `--import ${join(REPO_ROOT, 'test/fixtures/crash-on-signal.mjs')}`,
      });
      parent.process.kill(signal);
      const { code } = await parent.exited;
      expect(code).toBe(1);
      const lines = readFileSync(parent.logFile, 'utf8').trim().split('\n');
      const last = JSON.parse(lines.at(-1) ?? '{}') as {
        level?: number;
        msg?: string;
        origin?: string;
        err?: { message?: string; stack?: string };
      };
      expect(last.level, 'pino fatal').toBe(60);
      expect(last.origin).toBe(origin);
      expect(last.err?.message).toBe(message);
      expect(last.err?.stack).toContain(message);
    },
  );
});
