import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { runCascade, tempWorkspace, type CliResult } from './cli-process.js';

type Listed = {
  list: Array<{ id: string; status: string; node_id: string | null; node_name: string | null; feed_ids: string[] }>;
  total: number;
};

// Each local data command now builds the API in its own process (src/cli/api-local.ts): slower per call than the store alone.
describe('cascade dispatch, allocations, allocation show and node remove', { timeout: 180_000 }, () => {
  const { dir, databaseUrl } = tempWorkspace();
  const cli = (...args: string[]): Promise<CliResult> =>
    runCascade(args, { cwd: dir, env: { DATABASE_URL: databaseUrl } });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, '--json');
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
  let store: Store;
  let nodeId: string;

  beforeAll(async () => {
    expect((await cli('init')).code).toBe(0);
    nodeId = (await json<{ id: string }>('node', 'add', 'child-a', '--capacity', '2')).id;
    // Feeds and tasks come from the management API in production; here they are seeded straight into the real store.
    store = await openStore(loadConfig({ env: {}, overrides: { 'database.url': databaseUrl } }));
    const now = Date.now();
    const feed = (id: string) => ({
      id,
      mp_name: id,
      mp_cover: '',
      mp_intro: '',
      faker_id: '',
      url: `http://127.0.0.1:1/${id}.xml`,
      status: 1,
      sync_time: null,
      update_time: null,
      article_count: 0,
      created_at: now,
      updated_at: now,
    });
    await databaseOf(store)
      .insertInto('feeds')
      .values([feed('MP_WXS_1'), feed('MP_WXS_2'), feed('MP_WXS_3')])
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
        mps_id: JSON.stringify([{ id: 'MP_WXS_1' }, { id: 'MP_WXS_2' }, { id: 'MP_WXS_3' }, { id: 'MP_WXS_404' }]),
        cron_exp: '',
        status: 1,
        webhook_secret: '',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await store.nodes.recordHeartbeat(nodeId, {}, Date.now());
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dispatches within capacity, reports what it skipped, and never duplicates live work', async () => {
    const first = await json<Record<string, unknown>>('dispatch', '--task', 'task-1');
    expect(first).toMatchObject({
      online_nodes: 1,
      task_count: 1,
      allocations_created: 3,
      feeds_assigned: 2,
      feeds_unassigned: 1,
      feeds_skipped_unknown: 1,
      feeds_skipped_in_flight: 0,
    });
    const again = await json<Record<string, unknown>>('dispatch');
    expect(again).toMatchObject({ allocations_created: 0, feeds_skipped_in_flight: 3 });
    const human = await cli('dispatch');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/skipped, in flight:\s+3/);
    const missing = await cli('dispatch', '--task', 'no-such-task');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Message task 'no-such-task' does not exist");
  });

  it('lists allocations with filters and shows one with its placement', async () => {
    const [all, mine, completed, limited, badStatus, unknownNode] = await Promise.all([
      json<Listed>('allocations'),
      json<Listed>('allocations', '--node', 'child-a'),
      json<Listed>('allocations', '--status', 'completed'),
      json<Listed>('allocations', '--task', 'task-1', '--limit', '1'),
      cli('allocations', '--status', 'done'),
      // The API's node_name rule: a node that does not exist matches nothing (an empty list, exit 0; json checks it).
      json<Listed>('allocations', '--node', 'nobody'),
    ]);
    expect(all.total).toBe(3);
    expect(all.list.every((a) => a.status === 'pending')).toBe(true);
    expect(mine.total).toBe(2);
    expect(mine.list.every((a) => a.node_name === 'child-a')).toBe(true);
    expect(completed.total).toBe(0);
    expect(limited.list).toHaveLength(1);
    expect(limited.total).toBe(3);
    expect(badStatus.code).toBe(2);
    expect(unknownNode).toMatchObject({ list: [], total: 0 });

    const table = await cli('allocations');
    expect(table.stdout).toMatch(/^ID\s+TASK\s+NODE\s+STATUS/);
    expect(table.stdout).toContain('(unassigned)');

    const unassigned = all.list.find((a) => a.node_id === null);
    expect(unassigned).toBeDefined();
    const shown = await json<{ id: string; placement: string; attempts: unknown[] }>(
      'allocation',
      'show',
      unassigned?.id ?? '',
    );
    expect(shown.id).toBe(unassigned?.id);
    expect(shown.placement.length).toBeGreaterThan(0);
    expect(shown.attempts).toEqual([]);
    expect((await cli('allocation', 'show', 'nope')).code).toBe(1);
  });

  it('node remove returns the node’s claimed and pre-assigned work to the pool', async () => {
    const claimed = await store.allocations.claim(nodeId, 1);
    expect(claimed).toHaveLength(1);
    const removed = await cli('node', 'remove', 'child-a');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("Node 'child-a'");
    const after = await json<Listed>('allocations');
    expect(after.total).toBe(3);
    for (const allocation of after.list) {
      expect(allocation.status).toBe('pending');
      expect(allocation.node_id).toBeNull();
    }
    expect((await cli('node', 'show', 'child-a')).code).toBe(1);
    expect((await cli('node', 'remove', 'child-a')).code).toBe(1);
  });
});
