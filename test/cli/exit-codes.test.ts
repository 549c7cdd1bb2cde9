import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCascade, tempWorkspace } from './cli-process.js';

describe('cascade exit codes and usage errors', () => {
  const { dir, databaseUrl } = tempWorkspace();
  const env = { DATABASE_URL: databaseUrl };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help with exit 0, and every data command offers --config and --json', async () => {
    const root = await runCascade(['--help'], { cwd: dir, env });
    expect(root.code).toBe(0);
    for (const command of [
      'init',
      'parent',
      'node',
      'user',
      'token',
      'check',
      'dispatch',
      'allocations',
      'allocation',
      'child',
      'demo',
    ])
      expect(root.stdout).toContain(command);
    const commands = [
      ['node', 'list'],
      ['node', 'show'],
      ['node', 'add'],
      ['node', 'rotate'],
      ['node', 'remove'],
      ['user', 'add'],
      ['user', 'list'],
      ['token'],
      ['check'],
      ['init'],
      ['dispatch'],
      ['allocations'],
      ['allocation', 'show'],
    ];
    const helps = await Promise.all(commands.map((args) => runCascade([...args, '--help'], { cwd: dir, env })));
    for (const [index, args] of commands.entries()) {
      const help = helps[index] as Awaited<ReturnType<typeof runCascade>>;
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toContain('--config <path>');
      expect(help.stdout, args.join(' ')).toContain('--json');
    }
    const parentHelp = await runCascade(['parent', '--help'], { cwd: dir, env });
    expect(parentHelp.stdout).toContain('--config <path>');
  });

  it('exits 2 on usage errors: no command, unknown command, unknown option, bad flag values', async () => {
    const cases: string[][] = [
      [],
      ['frobnicate'],
      ['node', 'list', '--colour'],
      ['node', 'add', 'x', '--capacity', 'lots'],
      ['node', 'add'],
      ['user', 'add', 'bob', '--role', 'boss'],
      ['token', '--ttl', '0'],
    ];
    const results = await Promise.all(cases.map((args) => runCascade(args, { cwd: dir, env })));
    for (const [index, args] of cases.entries()) {
      const result = results[index] as Awaited<ReturnType<typeof runCascade>>;
      expect(result.code, `cascade ${args.join(' ')}`).toBe(2);
      expect(result.stdout + result.stderr, `cascade ${args.join(' ')}`).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it('exits 2 naming the key, the value and the expectation for an unknown key or a wrong type in the config file', async () => {
    const unknownKey = join(dir, 'unknown-key.yaml');
    writeFileSync(unknownKey, 'cascade:\n  node_type: parent\n  colour: red\n');
    const first = await runCascade(['check', '--config', unknownKey], { cwd: dir, env });
    expect(first.code).toBe(2);
    expect(first.stderr).toContain('cascade.colour');
    expect(first.stderr).toContain('unknown setting');

    const wrongType = join(dir, 'wrong-type.yaml');
    writeFileSync(wrongType, 'port: eighty\ndispatch:\n  lease_seconds: -5\n');
    const second = await runCascade(['node', 'list', '--config', wrongType], { cwd: dir, env });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('port: got "eighty", expected a whole number from 0 to 65535');
    expect(second.stderr).toContain('dispatch.lease_seconds: got -5, expected a whole number from 1 to 86400');
  });

  it('exits 2 for a bad environment value or database URL, and 1 when the command itself fails', async () => {
    const badPort = await runCascade(['check'], { cwd: dir, env: { ...env, PORT: 'abc' } });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('port: got "abc"');

    const badUrl = await runCascade(['init'], { cwd: dir, env: { DATABASE_URL: 'oracle://db/x' } });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('oracle://db/x');

    const missingConfig = await runCascade(['check', '--config', join(dir, 'nope.yaml')], { cwd: dir, env });
    expect(missingConfig.code).toBe(2);
    expect(missingConfig.stderr).toContain('cannot read config file');

    const beforeInit = await runCascade(['node', 'list'], { cwd: dir, env });
    expect(beforeInit.code).toBe(1);
    expect(beforeInit.stderr).toContain('cascade init');

    const shortPassword = await runCascade(['init', '--admin-password', 'short'], { cwd: dir, env });
    expect(shortPassword.code).toBe(2);
    expect(shortPassword.stderr).toContain('at least 8 characters');

    expect(existsSync(join(dir, 'cascade.db')), 'a rejected init must not create the store').toBe(false);
    const init = await runCascade(['init', '--json'], { cwd: dir, env });
    expect(init.code).toBe(0);
    // No password given: a random one, printed once (here in the JSON).
    expect(JSON.parse(init.stdout)).toMatchObject({
      admin: { created: true, password: expect.stringMatching(/^[A-Za-z0-9_-]{20}$/) },
    });
    const unknownNode = await runCascade(['node', 'show', 'no-such-node'], { cwd: dir, env });
    expect(unknownNode.code).toBe(1);
    expect(unknownNode.stderr).toContain("Node 'no-such-node' does not exist");
    const unknownUser = await runCascade(['token', '--user', 'nobody'], { cwd: dir, env });
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toContain("User 'nobody' does not exist");
  });
});
