import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCascade, tempWorkspace, type CliResult } from './cli-process.js';

type Json = Record<string, unknown>;

describe('cascade init, node add/edit/rotate and request signing', () => {
  const { dir, databaseUrl } = tempWorkspace();
  const env = {
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    CASCADE_ADMIN_PASSWORD: 'signing-admin-password',
  };
  const cli = (...args: string[]): Promise<CliResult> => runCascade(args, { cwd: dir, env });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('init creates the secrets key once; node add --require-signed and node edit switch the plain header', async () => {
    const init = await cli('init', '--json');
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ secrets_key: 'created' });
    const again = await cli('init', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ secrets_key: 'existing' });

    const added = await cli('node', 'add', 'strict', '--require-signed', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ require_signed: true, signing_available: true });

    const shown = await cli('node', 'show', 'strict');
    expect(shown.stdout).toMatch(/signing:\s+available; plain header refused/);

    const relaxed = await cli('node', 'edit', 'strict', '--allow-plain', '--json');
    expect(relaxed.code, relaxed.stderr).toBe(0);
    expect((JSON.parse(relaxed.stdout) as Json).require_signed).toBe(false);
    const strictAgain = await cli('node', 'edit', 'strict', '--require-signed');
    expect(strictAgain.stdout).toContain('only signed requests are accepted');

    const neither = await cli('node', 'edit', 'strict');
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toContain('exactly one of --require-signed or --allow-plain');

    const rotated = await cli('node', 'rotate', 'strict');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('Cascade children now sign their requests');
  });
});
