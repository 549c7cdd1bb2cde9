import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { ADMIN, startTestParent, type TestParent } from '../helpers/parent.js';
import { runCascade, type CliResult } from './cli-process.js';
import { databaseOf } from '../../src/store/store.js';

type Mode = 'local' | 'remote';
type Allocation = { id: string; status: string; attempt: number };
type Status = {
  nodes: { total: number; online: number; list: Array<{ name: string; current_tasks: number; max_capacity: number }> };
  allocations: { total: number; by_status: Record<string, number> };
  failures: { total: number; list: Array<{ allocation_id: string; error_message: string | null }> };
  stale_feeds: { total: number; list: Array<{ id: string; last_success_at: string | null }> };
};

/**
 * The commands that go through the management API, each run twice: on the local store (the API in the CLI's own
 * process) and with --url against a real parent listening on 127.0.0.1 after `cascade login`. Both see the same store.
 */
describe('CLI data commands, local store and remote parent (--url)', () => {
  let parent: TestParent;
  let store: Store;
  let childId: string;
  const home = mkdtempSync(join(tmpdir(), 'cascade-cli-home-'));
  const xdg = join(home, 'xdg');

  const env = (): Record<string, string> => ({
    DATABASE_URL: parent.config.database.url,
    XDG_CONFIG_HOME: xdg,
    HOME: home,
  });
  const cli = (mode: Mode, args: string[], stdin?: string): Promise<CliResult> =>
    runCascade(mode === 'remote' ? [...args, '--url', parent.url] : args, {
      cwd: home,
      env: mode === 'remote' ? { XDG_CONFIG_HOME: xdg, HOME: home } : env(),
      ...(stdin === undefined ? {} : { stdin }),
    });
  const json = async <T>(mode: Mode, ...args: string[]): Promise<T> => {
    const result = await cli(mode, [...args, '--json']);
    expect(result.code, `${mode} ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    parent = await startTestParent();
    store = parent.parent.services.store;
    const child = await parent.addChild('child-a', { max_capacity: 3 });
    childId = child.id;
    const now = Date.now();
    const feed = (id: string, updateTime: number | null) => ({
      id,
      mp_name: id,
      mp_cover: '',
      mp_intro: '',
      faker_id: '',
      url: `http://127.0.0.1:1/${id}.xml`,
      status: 1,
      sync_time: null,
      update_time: updateTime,
      article_count: 0,
      created_at: now,
      updated_at: now,
    });
    await databaseOf(store)
      .insertInto('feeds')
      .values([
        feed('MP_FRESH', Math.floor(now / 1000)),
        feed('MP_NEVER', null),
        feed('MP_OLD', Math.floor(now / 1000) - 3 * 86400),
      ])
      .execute();
    await databaseOf(store)
      .insertInto('message_tasks')
      .values({
        id: 'task-1',
        name: 'hourly',
        message_type: 0,
        message_template: '',
        web_hook_url: '',
        headers: '{}',
        cookies: '',
        mps_id: JSON.stringify([{ id: 'MP_FRESH' }, { id: 'MP_NEVER' }, { id: 'MP_OLD' }]),
        cron_exp: '',
        status: 1,
        webhook_secret: '',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await store.nodes.recordHeartbeat(child.id, {}, now);
    // One allocation that failed for good, with its reason, for the status screen.
    const dispatched = await parent.parent.services.dispatcher.run({ taskId: 'task-1', trigger: 'api' });
    expect(dispatched.allocations_created).toBeGreaterThan(0);
    const [claimed] = await store.allocations.claim(child.id, 1);
    if (!claimed) throw new Error('nothing claimed');
    await store.allocations.start(claimed.id, child.id);
    await store.allocations.fail(claimed.id, child.id, 'feed answered 410 Gone', Date.now(), false);
    const login = await cli(
      'remote',
      ['login', '--username', ADMIN.username, '--password-stdin'],
      `${ADMIN.password}\n`,
    );
    expect(login.code, login.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await parent?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('login keeps the token in a 0600 file inside a 0700 folder and refuses the file once others can read it', async () => {
    const file = join(xdg, 'cascade', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(xdg, 'cascade')).mode & 0o777).toBe(0o700);
    chmodSync(file, 0o644);
    try {
      const refused = await cli('remote', ['status']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('readable by other users (mode 0644)');
      expect(refused.stdout).toBe('');
    } finally {
      chmodSync(file, 0o600);
    }
    // CASCADE_URL alone plus the saved login is enough.
    const viaEnv = await runCascade(['status', '--json'], {
      cwd: home,
      env: { CASCADE_URL: parent.url, XDG_CONFIG_HOME: xdg, HOME: home },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect((JSON.parse(viaEnv.stdout) as Status).nodes.total).toBe(1);
  }, 180_000);

  it('an unreachable parent is named, with no stack trace; no login is a usage error', async () => {
    const down = await runCascade(['allocations', '--url', 'http://127.0.0.1:9', '--token', 'x'], {
      cwd: home,
      env: { HOME: home },
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('Cannot reach the parent at http://127.0.0.1:9');
    expect(down.stderr).not.toMatch(/\n\s+at /);
    const anonymous = await runCascade(['allocations', '--url', parent.url], {
      cwd: home,
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'nobody') },
    });
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toContain(`Not logged in to ${parent.url}`);
  }, 180_000);

  for (const mode of ['local', 'remote'] as const) {
    it(`${mode}: status shows nodes with load, allocations by status, the failure with its reason and stale feeds`, async () => {
      // CLI runs are slow on a busy machine: keep the node's heartbeat younger than offline_after_seconds.
      await store.nodes.recordHeartbeat(childId, {}, Date.now());
      const status = await json<Status>(mode, 'status');
      expect(status.nodes).toMatchObject({ total: 1, online: 1 });
      expect(status.nodes.list[0]).toMatchObject({ name: 'child-a', max_capacity: 3 });
      expect(status.allocations.by_status.failed).toBe(1);
      expect(status.failures.total).toBe(1);
      expect(status.failures.list[0]?.error_message).toBe('feed answered 410 Gone');
      expect(status.stale_feeds.list.map((f) => f.id)).toEqual(['MP_NEVER', 'MP_OLD']);
      const human = await cli(mode, ['status']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain('feed answered 410 Gone');
      expect(human.stdout).toMatch(/NODES: 1 online/);
    }, 180_000);

    it(`${mode}: allocations --node follows the API's node_name rule: id or name; an unknown node matches nothing`, async () => {
      const [mine, unknown] = await Promise.all([
        json<{ list: Allocation[]; total: number }>(mode, 'allocations', '--node', childId),
        json<{ list: Allocation[]; total: number }>(mode, 'allocations', '--node', 'nobody'),
      ]);
      expect(mine.total).toBe((await store.allocations.views.list({ node_id: childId }, 50, 0)).total);
      expect(mine.total).toBeGreaterThan(0);
      expect(unknown).toMatchObject({ list: [], total: 0 });
    }, 180_000);

    it(`${mode}: allocation cancel and retry move one allocation and refuse an illegal move`, async () => {
      const pending = (await json<{ list: Allocation[] }>(mode, 'allocations', '--status', 'pending')).list[0];
      if (!pending) throw new Error('no pending allocation');
      expect(await json<Allocation>(mode, 'allocation', 'cancel', pending.id)).toMatchObject({
        id: pending.id,
        status: 'cancelled',
      });
      expect((await store.allocations.views.view(pending.id))?.status).toBe('cancelled');
      // A finished allocation cannot be cancelled: the state machine's refusal arrives as the API's message.
      const failed = (await json<{ list: Allocation[] }>(mode, 'allocations', '--status', 'failed')).list[0];
      if (!failed) throw new Error('no failed allocation');
      const illegal = await cli(mode, ['allocation', 'cancel', failed.id]);
      expect(illegal.code).toBe(1);
      expect(illegal.stderr).toMatch(/^cascade: /);
      expect((await store.allocations.views.view(failed.id))?.status).toBe('failed');
      expect(await json<Allocation>(mode, 'allocation', 'retry', pending.id)).toMatchObject({
        id: pending.id,
        status: 'pending',
      });
      const missing = await cli(mode, ['allocation', 'retry', 'no-such-allocation']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("Allocation 'no-such-allocation' does not exist");
    }, 180_000);

    it(`${mode}: user disable, enable and remove; the last active admin cannot be disabled or removed`, async () => {
      const name = `ops-${mode}`;
      const added = await cli(
        mode,
        ['user', 'add', name, '--role', 'viewer', '--password-stdin', '--json'],
        'viewer-password\n',
      );
      expect(added.code, added.stderr).toBe(0);
      expect(await json<{ is_active: boolean }>(mode, 'user', 'disable', name)).toMatchObject({ is_active: false });
      expect((await store.users.findByUsername(name))?.isActive).toBe(false);
      expect(await json<{ is_active: boolean }>(mode, 'user', 'enable', name)).toMatchObject({ is_active: true });
      expect(await json<{ removed: boolean }>(mode, 'user', 'remove', name)).toMatchObject({ removed: true });
      expect(await store.users.findByUsername(name)).toBeUndefined();
      for (const action of ['disable', 'remove']) {
        const refused = await cli(mode, ['user', action, ADMIN.username]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('last active admin');
      }
      expect((await store.users.findByUsername(ADMIN.username))?.isActive).toBe(true);
      const unknown = await cli(mode, ['user', 'disable', 'nobody']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("User 'nobody' does not exist");
    }, 180_000);
  }

  it('status --watch --count N prints N frames, one JSON document per line with --json, and appends frames off a terminal', async () => {
    const watched = await cli('local', ['status', '--watch', '--interval', '1', '--count', '2', '--json']);
    expect(watched.code, watched.stderr).toBe(0);
    const frames = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Status);
    expect(frames).toHaveLength(2);
    expect(frames.every((f) => f.nodes.total === 1)).toBe(true);
    const human = await cli('remote', ['status', '--watch', '--interval', '1', '--count', '2']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.match(/^Cascade status of /gm)).toHaveLength(2);
    expect(human.stdout).not.toContain('\u001b[');
  }, 180_000);

  it('logout forgets the token', async () => {
    const out = await cli('remote', ['logout']);
    expect(out.code, out.stderr).toBe(0);
    const after = await cli('remote', ['status']);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('Not logged in');
  }, 180_000);
});
