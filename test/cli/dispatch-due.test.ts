import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { runCascade, tempWorkspace, type CliResult } from './cli-process.js';

/** `cascade dispatch [--force]` and `cascade feed list` with "fetch only what is due" (docs/refresh.md). */
describe('cascade dispatch --force and feed list with due times', { timeout: 180_000 }, () => {
  const { dir, databaseUrl } = tempWorkspace();
  const cli = (...args: string[]): Promise<CliResult> =>
    runCascade(args, { cwd: dir, env: { DATABASE_URL: databaseUrl } });
  let store: Store;
  const inTwoHours = Date.now() + 2 * 3_600_000;

  beforeAll(async () => {
    expect((await cli('init')).code).toBe(0);
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
      .values([feed('DUE_LATER'), feed('DUE_NEVER_FETCHED')])
      .execute();
    // As a completion would have learned it: an hourly feed fetched just now, due again in two hours.
    await databaseOf(store)
      .updateTable('feeds')
      .set({ next_due_at: inTwoHours, refresh_interval_seconds: 7200 })
      .where('id', '=', 'DUE_LATER')
      .execute();
    await databaseOf(store)
      .insertInto('message_tasks')
      .values({
        id: 'task-due',
        name: 'due',
        message_type: 0,
        message_template: '',
        web_hook_url: '',
        headers: '{}',
        cookies: '',
        mps_id: JSON.stringify([{ id: 'DUE_LATER' }]),
        cron_exp: '',
        status: 1,
        webhook_secret: '',
        created_at: now,
        updated_at: now,
      })
      .execute();
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('feed list shows the next due time and the learned interval, in text and JSON', async () => {
    const text = await cli('feed', 'list');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/NEXT DUE\s+INTERVAL/);
    expect(text.stdout).toMatch(/DUE_LATER\s.*\bin (119|120)m\s+2h\s/);
    expect(text.stdout).toMatch(/DUE_NEVER_FETCHED\s.*\bnow\s+-\s/);
    const json = await cli('feed', 'list', '--json');
    const list = (
      JSON.parse(json.stdout) as {
        list: Array<{ id: string; next_due_at: string | null; refresh_interval_seconds: number | null }>;
      }
    ).list;
    expect(list.find((f) => f.id === 'DUE_LATER')).toMatchObject({
      next_due_at: new Date(inTwoHours).toISOString(),
      refresh_interval_seconds: 7200,
    });
    expect(list.find((f) => f.id === 'DUE_NEVER_FETCHED')).toMatchObject({
      next_due_at: null,
      refresh_interval_seconds: null,
    });
  });

  it('dispatches nothing when nothing is due, says so and exits 0; --force dispatches it', async () => {
    const human = await cli('dispatch', '--task', 'task-due');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/skipped, not due:\s+1 \(the next due at /);
    expect(human.stdout).toContain('Nothing dispatched: 1 feed(s) are not due yet');
    const json = await cli('dispatch', '--task', 'task-due', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      allocations_created: 0,
      feeds_skipped_not_due: 1,
      not_due: [{ feed_id: 'DUE_LATER', task_id: 'task-due' }],
      forced: false,
    });
    const forced = await cli('dispatch', '--task', 'task-due', '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ allocations_created: 1, feeds_skipped_not_due: 0, forced: true });
  });
});
