import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestParent } from '../helpers/parent.js';
import { runCascade, tempWorkspace } from './cli-process.js';

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

const KEY = `CN${'a'.repeat(32)}`;
const SECRET = `CS${'b'.repeat(32)}`;

describe('cascade check', () => {
  const { dir, databaseUrl } = tempWorkspace();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summarises a parent config, reports a store that does not exist yet without creating it', async () => {
    const result = await runCascade(['check', '--json'], {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl, PORT: '8123' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      config_valid: true,
      role: 'parent',
      database: databaseUrl,
      listen: '0.0.0.0:8123',
      store: { pending_migrations: null },
    });
    expect(existsSync(join(dir, 'cascade.db'))).toBe(false);

    expect((await runCascade(['init'], { cwd: dir, env: { DATABASE_URL: databaseUrl } })).code).toBe(0);
    const after = await runCascade(['check'], { cwd: dir, env: { DATABASE_URL: databaseUrl } });
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/store:\s+reachable, schema up to date/);
  });

  it('hides the database password and exits 1 when the store is unreachable', async () => {
    const port = await closedPort();
    const url = `postgres://cascade:hunter2-secret@127.0.0.1:${port}/cascade`;
    const result = await runCascade(['check'], { cwd: dir, env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`postgres://cascade:***@127.0.0.1:${port}/cascade`);
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
    expect(result.stderr).toContain('the store is not reachable');
  });

  it('says when a file is checked as a parent by default, and refuses a child config that lacks node_type: child', async () => {
    const plain = join(dir, 'no-role.yaml');
    writeFileSync(plain, `database:\n  url: "${databaseUrl}"\n`);
    const defaulted = await runCascade(['check', '--config', plain], { cwd: dir });
    expect(defaulted.code, defaulted.stderr).toBe(0);
    expect(defaulted.stdout).toMatch(/role:\s+parent \(cascade\.node_type is not set; parent is the default\)/);

    const halfChild = join(dir, 'half-child.yaml');
    writeFileSync(
      halfChild,
      `cascade:\n  parent_api_url: "http://127.0.0.1:1"\n  api_key: "${KEY}"\n  api_secret: "${SECRET}"\n`,
    );
    const refused = await runCascade(['check', '--config', halfChild, '--json'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      'cascade.parent_api_url, cascade.api_key, cascade.api_secret, which only a child reads',
    );
    expect(refused.stderr).toContain('`node_type: child`');
  });

  it('exits 2 naming the missing child settings', async () => {
    const path = join(dir, 'child-missing.yaml');
    writeFileSync(path, 'cascade:\n  node_type: child\n  parent_api_url: "http://127.0.0.1:1"\n');
    const result = await runCascade(['check', '--config', path], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cascade.api_key: missing');
    expect(result.stderr).toContain('cascade.api_secret: missing');
    expect(result.stderr).not.toContain('cascade.parent_api_url: missing');
  });

  it('exits 1 with the reason when no parent answers, trying every URL', async () => {
    const [first, second] = [await closedPort(), await closedPort()];
    const env = {
      CASCADE_NODE_TYPE: 'child',
      CASCADE_PARENT_API_URL: `http://127.0.0.1:${first},http://127.0.0.1:${second}`,
      CASCADE_API_KEY: KEY,
      CASCADE_API_SECRET: SECRET,
    };
    const result = await runCascade(['check', '--json'], { cwd: dir, env });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      parents: Array<{ url: string; ok: boolean; error: string }>;
    };
    expect(report.ok).toBe(false);
    expect(report.parents.map((p) => p.url)).toEqual([`http://127.0.0.1:${first}`, `http://127.0.0.1:${second}`]);
    for (const parent of report.parents) expect(parent.error).toMatch(/ECONNREFUSED|unreachable|refused/i);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('authenticates a child against a real parent, reports the node and round trip, and names rejected credentials', async () => {
    const parent = await startTestParent();
    try {
      const child = await parent.addChild('edge-1');
      const [down] = [await closedPort()];
      const env = {
        CASCADE_NODE_TYPE: 'child',
        CASCADE_PARENT_API_URL: `http://127.0.0.1:${down},${parent.url}`,
        CASCADE_API_KEY: child.api_key,
        CASCADE_API_SECRET: child.api_secret,
      };
      const good = await runCascade(['check'], { cwd: dir, env });
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toMatch(
        new RegExp(`OK\\s+${parent.url.replace(/[.]/g, '\\.')}: authenticated as node edge-1 in \\d+ ms`),
      );
      expect(good.stdout).toMatch(/FAIL\s+http:\/\/127\.0\.0\.1:\d+: .*unreachable.*ECONNREFUSED/);
      expect(good.stdout + good.stderr).not.toContain(child.api_secret);
      const shown = await parent.parent.services.store.nodes.resolve('edge-1');
      expect(shown.lastHeartbeatAtMs).not.toBeNull();

      const rejected = await runCascade(['check', '--json'], {
        cwd: dir,
        env: { ...env, CASCADE_PARENT_API_URL: parent.url, CASCADE_API_SECRET: `CS${'z'.repeat(32)}` },
      });
      expect(rejected.code).toBe(1);
      expect(JSON.parse(rejected.stdout)).toMatchObject({
        ok: false,
        parents: [{ url: parent.url, ok: false, error: expect.stringContaining('credentials rejected (401)') }],
      });
    } finally {
      await parent.close();
    }
  });
});
