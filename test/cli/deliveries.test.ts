import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFeedArticles } from '../../src/executors/feed-parse.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { runCascade, type CliResult } from './cli-process.js';
import { databaseOf } from '../../src/store/store.js';

/** The CLI against a running parent's own SQLite store, as an operator on the parent's host would run it. */
describe('cascade deliveries, delivery redeliver and feed url', () => {
  let t: TestParent;
  let cli: (...args: string[]) => Promise<CliResult>;
  let feedId: string;
  let taskId: string;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false } });
    const port = new URL(t.url).port;
    cli = (...args) =>
      runCascade(args, { cwd: t.dir, env: { DATABASE_URL: t.config.database.url, HOST: '127.0.0.1', PORT: port } });
    const store = t.parent.services.store;
    feedId = (await seedFeeds(store, 1, 'MP_CLI_'))[0]!;
    taskId = await seedTask(store, [feedId]);
    const now = Date.now();
    await databaseOf(store)
      .insertInto('articles')
      .values({
        id: 'a-1',
        mp_id: feedId,
        title: 'Hello & welcome',
        url: 'https://example.com/1',
        pic_url: '',
        description: '',
        content: '',
        content_markdown: '',
        publish_time: 1_790_000_000,
        allocation_id: null,
        node_id: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const row = (id: string, status: string) => ({
      id,
      task_id: taskId,
      status,
      attempt: 5,
      article_count: 1,
      batch_closes_at: now,
      available_at: now,
      lease_expires_at: null,
      last_status_code: 500,
      last_response: 'down',
      last_error: null,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    });
    await databaseOf(store)
      .insertInto('deliveries')
      .values([row('d-failed', 'failed'), row('d-pending', 'pending')])
      .execute();
  });
  afterAll(() => t.close());

  it('lists deliveries, filtered by status, as a table and as JSON', async () => {
    const table = await cli('deliveries', '--status', 'failed');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+TASK\s+STATUS\s+ATTEMPT\s+ARTICLES\s+LAST ANSWER\s+CREATED$/m);
    expect(table.stdout).toMatch(/^d-failed\s+\S+\s+failed\s+5\s+1\s+500\s/m);
    expect(table.stdout).not.toContain('d-pending');
    const json = await cli('deliveries', '--task', taskId, '--json');
    expect((JSON.parse(json.stdout) as { total: number }).total).toBe(2);
    expect((await cli('deliveries', '--status', 'lost')).code).toBe(2);
  });

  it('redelivers a failed delivery; a pending one or an unknown id exits 1 and changes nothing', async () => {
    const done = await cli('delivery', 'redeliver', 'd-failed', '--json');
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ id: 'd-failed', status: 'pending', attempt: 0 });
    const pending = await cli('delivery', 'redeliver', 'd-pending');
    expect(pending.code).toBe(1);
    expect(pending.stderr).toMatch(/is pending/);
    expect((await cli('delivery', 'redeliver', 'nope')).code).toBe(1);
  });

  it('prints a subscription URL that the running parent serves', async () => {
    const printed = await cli('feed', 'url', feedId, '--format', 'atom');
    expect(printed.code, printed.stderr).toBe(0);
    const url = printed.stdout.trim();
    expect(url).toMatch(new RegExp(`^${t.url}/feeds/${feedId}\\.atom\\?token=`));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(parseFeedArticles(feedId, await response.text(), '').map((a) => a.title)).toEqual(['Hello & welcome']);
    const merged = await cli('feed', 'url', taskId, '--task', '--json');
    expect((JSON.parse(merged.stdout) as { json: string }).json).toContain(`/feeds/tasks/${taskId}.json?token=`);
    expect((await cli('feed', 'url', 'MP_UNKNOWN')).code).toBe(1);
  });
});
