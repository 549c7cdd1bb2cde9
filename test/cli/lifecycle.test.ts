import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.js';
import {
  collect,
  runCascade,
  spawnCascade,
  stderrMark,
  tempWorkspace,
  waitForStderr,
  type CliResult,
} from './cli-process.js';

type Json = Record<string, unknown>;

describe('cascade init, node, user, token and parent as real processes', () => {
  const { dir, databaseUrl } = tempWorkspace();
  const env = { DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' };
  const cli = (...args: string[]): Promise<CliResult> => runCascade(args, { cwd: dir, env });
  const running: ChildProcess[] = [];

  afterEach(() => {
    // A parent left running is a failure of the test that started it, not something to hide.
    const leftover = running.filter((child) => child.exitCode === null && child.signalCode === null);
    for (const child of leftover) child.kill('SIGKILL');
    running.length = 0;
    expect(leftover.length, 'a cascade parent was left running').toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startParentProcess(
    extraEnv: Record<string, string> = {},
  ): Promise<{ child: ChildProcess; url: string; done: Promise<CliResult> }> {
    const child = spawnCascade(['parent'], { cwd: dir, env: { ...env, ...extraEnv } });
    running.push(child);
    const done = collect(child);
    const match = await waitForStderr(child, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    return { child, url: match[1] as string, done };
  }

  it('init is idempotent and never resets the admin password', async () => {
    const first = await cli('init', '--admin-password', 'first-password-1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('applied 001-initial');
    expect(first.stdout).not.toContain('first-password-1');

    const second = await runCascade(['init', '--json'], {
      cwd: dir,
      env: { ...env, CASCADE_ADMIN_PASSWORD: 'second-password-2' },
    });
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout) as Json;
    expect(report).toMatchObject({
      migrations_applied: [],
      jwt_key: 'existing',
      admin: { created: false },
      parent_node: { created: false },
    });

    const human = await cli('init');
    expect(human.stdout).toContain('already exists; its password was not changed');

    const nodes = JSON.parse((await cli('node', 'list', '--json')).stdout) as Json[];
    expect(nodes.filter((n) => n.node_type === 0)).toHaveLength(1);
    const users = JSON.parse((await cli('user', 'list', '--json')).stdout) as Json[];
    expect(users.map((u) => u.username)).toEqual(['admin']);
  });

  it('node add shows the secret once; list, show, disable, enable and rotate never show it again', async () => {
    const added = await cli(
      'node',
      'add',
      'child-1',
      '--capacity',
      '4',
      '--api-url',
      'http://child-1.local:9000',
      '--desc',
      'first child',
      '--parent-url',
      'http://parent.local:8001',
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const created = JSON.parse(added.stdout) as {
      id: string;
      api_key: string;
      api_secret: string;
      notify_key: string;
      child_config_yaml: string;
      sync_config: Json;
    };
    expect(created.api_key).toMatch(/^CN[A-Za-z0-9_-]{32}$/);
    expect(created.api_secret).toMatch(/^CS[A-Za-z0-9_-]{32}$/);
    expect(created.sync_config).toMatchObject({ max_capacity: 4 });
    expect(created.child_config_yaml).toContain('node_type: child');
    expect(created.child_config_yaml).toContain('parent_api_url: "http://parent.local:8001"');
    expect(created.child_config_yaml).toContain(`api_secret: "${created.api_secret}"`);
    expect(created.notify_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.child_config_yaml).toContain(`notify_key: "${created.notify_key}"`);

    const views: CliResult[] = await Promise.all([
      cli('node', 'list', '--json'),
      cli('node', 'list'),
      cli('node', 'show', 'child-1', '--json'),
      cli('node', 'show', created.id),
    ]);
    views.push(await cli('node', 'disable', 'child-1', '--json'));
    for (const view of views) {
      expect(view.code, view.stderr).toBe(0);
      expect(view.stdout + view.stderr).not.toContain(created.api_secret);
      expect(view.stdout + view.stderr).not.toContain(created.notify_key);
      expect(view.stdout).not.toContain('sha256:');
    }
    const table = views[1]?.stdout ?? '';
    expect(table).toMatch(/child-1\s+\S+\s+child\s+offline\s+never\s+0\/4\s+http:\/\/child-1\.local:9000/);
    expect(JSON.parse(views[4]?.stdout ?? '{}')).toMatchObject({ is_active: false, status: 2 });
    expect((await cli('node', 'list')).stdout).toMatch(/child-1\s+\S+\s+child\s+disabled/);
    expect(JSON.parse((await cli('node', 'enable', created.id, '--json')).stdout)).toMatchObject({
      is_active: true,
      status: 0,
    });

    const rotated = await cli('node', 'rotate', 'child-1', '--json');
    expect(rotated.code, rotated.stderr).toBe(0);
    const pair = JSON.parse(rotated.stdout) as { api_key: string; api_secret: string; notify_key: string };
    expect(pair.api_key).not.toBe(created.api_key);
    expect(pair.api_secret).not.toBe(created.api_secret);
    expect(pair.notify_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.notify_key).not.toBe(created.notify_key);
    const after = await cli('node', 'show', 'child-1', '--json');
    expect(after.stdout).not.toContain(pair.api_secret);
    expect(after.stdout).not.toContain(pair.notify_key);
    expect(JSON.parse(after.stdout)).toMatchObject({ api_key: pair.api_key });

    const human = await cli('node', 'add', 'child-2');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/api_secret: CS[A-Za-z0-9_-]{32}/);
    expect(human.stdout).toMatch(/notify_key: [A-Za-z0-9_-]{43}/);
    expect(human.stdout).toContain('cascade:\n  enabled: true\n  node_type: child\n');
    expect((await cli('node', 'add', 'child-2')).code).toBe(1);
  });

  it('node add --write-config writes the config block to a new 0600 file with its own outbox folder, never over a file', async () => {
    const target = join(dir, 'child-9.yaml');
    const added = await cli(
      'node',
      'add',
      'child 9/x',
      '--parent-url',
      'http://127.0.0.1:8001',
      '--write-config',
      target,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Wrote the child's config to ${target} (mode 600)`);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    const written = parseYaml(readFileSync(target, 'utf8')) as { cascade: Json };
    expect(written.cascade).toMatchObject({
      node_type: 'child',
      parent_api_url: 'http://127.0.0.1:8001',
      data_dir: './data/child-9-x',
    });
    expect(added.stdout).toContain(String(written.cascade.api_secret));

    writeFileSync(target, 'kept\n');
    const again = await cli('node', 'add', 'child-10', '--write-config', target);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(readFileSync(target, 'utf8')).toBe('kept\n');
    const names = (JSON.parse((await cli('node', 'list', '--json')).stdout) as Json[]).map((n) => n.name);
    expect(names).not.toContain('child-10');
  });

  it('runs a parent that serves tokens minted by `cascade token` and logins changed by `cascade user passwd`', async () => {
    const { child, url, done } = await startParentProcess();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const login = (password: string) => api(url, '/api/v1/auth/login', { json: { username: 'admin', password } });
    expect((await login('first-password-1')).status).toBe(200);
    expect((await login('second-password-2')).status).toBe(401);

    const minted = await cli('token');
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const nodes = await api<{ list: Array<{ name: string }> }>(url, '/api/v1/cascade/nodes', { token });
    expect(nodes.status).toBe(200);
    expect(nodes.body.data.list.map((n) => n.name)).toContain('child-1');
    expect((await api(url, '/api/v1/cascade/nodes', { token: `${token}x` })).status).toBe(401);

    const viewer = await cli('user', 'add', 'reader', '--role', 'viewer', '--json');
    expect(viewer.code, viewer.stderr).toBe(0);
    const viewerPassword = (JSON.parse(viewer.stdout) as { password: string }).password;
    expect(viewerPassword.length).toBeGreaterThanOrEqual(8);
    expect((await login('x'.repeat(8))).status).toBe(401);
    const viewerToken = JSON.parse((await cli('token', '--user', 'reader', '--ttl', '5', '--json')).stdout) as {
      access_token: string;
      expires_in: number;
    };
    expect(viewerToken.expires_in).toBe(300);
    const viewerWrite = await api(url, '/api/v1/cascade/nodes', {
      token: viewerToken.access_token,
      json: { node_type: 1, name: 'nope' },
    });
    expect(viewerWrite.status).toBe(403);
    const viewerLogin = await api(url, '/api/v1/auth/login', {
      json: { username: 'reader', password: viewerPassword },
    });
    expect(viewerLogin.status).toBe(200);

    const passwd = await cli('user', 'passwd', 'admin', '--password', 'third-password-3');
    expect(passwd.code, passwd.stderr).toBe(0);
    expect((await login('third-password-3')).status).toBe(200);
    expect((await login('first-password-1')).status).toBe(401);

    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('parent stopped');
  });

  it('shuts down cleanly on SIGINT followed by a second signal while stopping', async () => {
    const { child, url, done } = await startParentProcess();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGINT');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/Error|uncaught/i);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('logs JSON lines with ISO times off a terminal, and readable lines with --log-format pretty', async () => {
    const json = await startParentProcess();
    const listening = (await waitForStderr(json.child, /^(\{.*"msg":"Cascade parent listening.*\})$/m))[1];
    expect(JSON.parse(listening as string)).toMatchObject({
      level: 30,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect((await fetch(`${json.url}/healthz`)).status).toBe(200);
    json.child.kill('SIGTERM');
    const jsonResult = await json.done;
    expect(jsonResult.code, `${jsonResult.signal} ${jsonResult.stderr}`).toBe(0);

    const pretty = spawnCascade(['parent', '--log-format', 'pretty'], { cwd: dir, env });
    running.push(pretty);
    const done = collect(pretty);
    const [, url] = await waitForStderr(
      pretty,
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO.*: Cascade parent listening on (http:\/\/127\.0\.0\.1:\d+)$/m,
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    pretty.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/^\{/m); // no JSON line among the readable ones
  });

  it('lets an in-flight long-poll claim finish when SIGTERM arrives, then exits 0', async () => {
    const node = JSON.parse((await cli('node', 'add', 'drain-child', '--json')).stdout) as {
      api_key: string;
      api_secret: string;
    };
    // Child routes log requests only at debug (they are frequent); the test needs to see the claim arrive.
    const { child, url, done } = await startParentProcess({ LOG_LEVEL: 'debug' });
    const mark = stderrMark(child);
    const inFlight = api(url, '/api/v1/cascade/claim-task?wait=30', { method: 'POST', aksk: node });
    inFlight.catch(() => undefined); // awaited below; this only keeps an early failure from being reported twice
    // Fastify logs "incoming request" once it has read the request: from then on the claim is in flight.
    await waitForStderr(child, /"url":"\/api\/v1\/cascade\/claim-task\?wait=30"/, { from: mark });
    child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ code: 0, data: null });
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(node.api_secret);
  });
});
