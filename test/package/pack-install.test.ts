import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cascade-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm package', () => {
  it('packs with dist/ inside, installs globally into an empty prefix and runs `cascade child --help` with only Node', async () => {
    // --ignore-scripts: the tests run on the dist/ already built; prepack's rebuild would rewrite it under the
    // feet of tests running beside this one.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, timeout: 300_000 });
    const tarball = readdirSync(dir).find((name) => /^cascade-\d+\.\d+\.\d+\.tgz$/.test(name));
    expect(tarball).toBeDefined();
    const { stdout: listing } = await run('tar', ['tzf', join(dir, tarball!)]);
    expect(listing).toContain('package/dist/cli/main.js');
    expect(listing).toContain('package/bin/cascade');
    expect(listing).not.toContain('package/src/');

    // An empty prefix and no TypeScript on the way: only what the tarball and its dependencies bring.
    const prefix = join(dir, 'prefix');
    // `--prefix` also moves where npm reads its global config, so a CA the machine's npm config names is lost:
    // pass the one Node itself is told about (a registry behind a TLS-inspecting proxy needs it).
    const ca =
      process.env.NODE_EXTRA_CA_CERTS === undefined ? {} : { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS };
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...ca,
      npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? dir, '.npm'),
    };
    await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball!)],
      { cwd: dir, env, timeout: 600_000 },
    );
    const installed = join(prefix, 'lib/node_modules/cascade');
    expect(readdirSync(join(installed, 'node_modules'))).not.toContain('typescript');

    const help = await run(join(prefix, 'bin/cascade'), ['child', '--help'], {
      cwd: dir,
      env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` },
    });
    expect(help.stdout).toContain('Usage: cascade child [options]');
    // The child's outbox is SQLite: the native module must load from the install.
    const sqlite = await run(
      process.execPath,
      [
        '-e',
        "const D = require('better-sqlite3'); console.log(new D(':memory:').prepare('select 1 as one').get().one)",
      ],
      { cwd: installed },
    );
    expect(sqlite.stdout.trim()).toBe('1');
    expect(statSync(join(prefix, 'bin/cascade')).mode & 0o111).not.toBe(0);
  }, 900_000);
});
