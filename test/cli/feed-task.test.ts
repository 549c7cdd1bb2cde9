import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportRow } from '../../src/cli/feed-import.js';
import type { FeedView } from '../../src/store/feeds.js';
import type { MessageTaskView } from '../../src/store/message-tasks.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { dumpStore } from '../helpers/store-dump.js';
import { runCascade, type CliResult } from './cli-process.js';
import { databaseOf } from '../../src/store/store.js';

type ImportJson = {
  format: string;
  dry_run: boolean;
  created: number;
  present: number;
  invalid: number;
  skipped: number;
  imported: boolean;
  entries: ImportRow[];
};
type Job = { task_id: string; cron_exp: string };

/** Each CLI run is a new Node process; these tests make a dozen each, so they get more time than the default. */
const SLOW = { timeout: 400_000 };

const OPML = readFileSync(join(import.meta.dirname, '../fixtures/feed-lists/subscriptions.opml'), 'utf8').replaceAll(
  'FEED_BASE',
  'https://feeds.example',
);

/**
 * Every feed and task command against a real parent: through the local store (the parent's routes in the CLI's own
 * process, on the same database file) and through `--url` to the parent listening on 127.0.0.1.
 */
describe.each(['local', 'remote'] as const)('cascade feed and task commands (%s)', (mode) => {
  let t: TestParent;
  let cli: (args: string[], stdin?: string) => Promise<CliResult>;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'scheduler.enabled': true, 'scheduler.timezone': 'UTC' } });
    const where = mode === 'remote' ? ['--url', t.url, '--token', t.adminToken] : [];
    const env: Record<string, string> = mode === 'local' ? { DATABASE_URL: t.config.database.url } : {};
    cli = (args, stdin) =>
      runCascade([...args, ...where], { cwd: t.dir, env, ...(stdin === undefined ? {} : { stdin }) });
  });
  afterAll(async () => t?.close());

  const json = async <T>(args: string[], stdin?: string): Promise<T> => {
    const result = await cli([...args, '--json'], stdin);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
  const store = () => dumpStore(databaseOf(t.parent.services.store));

  it('imports an OPML list with nested outlines once; the same file again creates nothing', SLOW, async () => {
    const file = join(t.dir, 'subscriptions.opml');
    writeFileSync(file, OPML);
    const dry = await json<ImportJson>(['feed', 'import', file, '--dry-run']);
    expect(dry).toMatchObject({ format: 'opml', dry_run: true, created: 4, skipped: 2, imported: false });
    expect((await json<{ list: FeedView[] }>(['feed', 'list'])).list).toEqual([]);

    const first = await json<ImportJson>(['feed', 'import', file]);
    expect(first).toMatchObject({ created: 4, present: 0, invalid: 0, skipped: 2, imported: true });
    expect(first.entries.map((e) => [e.at, e.outcome])).toEqual([
      ['line 8 (Tech › Alpha & Co)', 'created'],
      ['line 11 (Tech › Blogs › Beta)', 'created'],
      ['line 12 (Tech › Blogs › Gamma)', 'created'],
      ['line 16 (News › Alpha again)', 'skipped'],
      ['line 17 (News › Empty folder)', 'skipped'],
      ['line 19 (Top level)', 'created'],
    ]);
    const listed = await json<{ list: FeedView[]; total: number }>(['feed', 'list']);
    expect(listed.total).toBe(4);
    expect(listed.list.map((f) => f.mp_name).sort()).toEqual(['Alpha & Co', 'Beta', 'Gamma', 'Top level']);
    expect(listed.list.every((f) => /-[0-9a-f]{10}$/.test(f.id))).toBe(true);

    const before = await store();
    const again = await cli(['feed', 'import', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 created, 4 already present, 0 invalid, 2 skipped');
    expect(again.stderr).toContain('line 16 (News › Alpha again): skipped: duplicate');
    expect(await store()).toBe(before);
  });

  it(
    'refuses a list with a bad line whole (exit 1, the line named), and imports the rest with --skip-invalid',
    SLOW,
    async () => {
      const text =
        '# mine\nhttps://text.example/one.xml\nftp://text.example/two\n\nhttps://text.example/three.xml # good\n';
      const before = await store();
      const refused = await cli(['feed', 'import', '-'], text);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('line 3: invalid: only http(s) feeds can be fetched, not ftp:');
      expect(refused.stderr).toContain('nothing was imported');
      expect(await store()).toBe(before);

      const skipped = await json<ImportJson>(['feed', 'import', '-', '--skip-invalid', '--format', 'text'], text);
      expect(skipped).toMatchObject({ created: 2, invalid: 1, imported: true });
      expect(skipped.entries.find((e) => e.outcome === 'invalid')).toMatchObject({ at: 'line 3' });
      const unreadable = await cli(['feed', 'import', '-', '--format', 'opml'], text);
      expect(unreadable.code).toBe(1);
      expect(unreadable.stderr).toContain('not an OPML document');
    },
  );

  it('adds one feed, reports it present the second time, and lists by status', SLOW, async () => {
    const added = await json<{ outcome: string; id: string; feed: FeedView }>([
      'feed',
      'add',
      'https://single.example/rss',
      '--id',
      'MP_SINGLE',
      '--name',
      'Single',
    ]);
    expect(added).toMatchObject({
      outcome: 'created',
      id: 'MP_SINGLE',
      feed: { id: 'MP_SINGLE', mp_name: 'Single', url: 'https://single.example/rss', status: 1 },
    });
    const again = await json<{ outcome: string; match: string }>(['feed', 'add', 'https://single.example/rss']);
    expect(again).toMatchObject({ outcome: 'present', match: 'url', id: 'MP_SINGLE' });
    const bad = await cli(['feed', 'add', 'file:///etc/passwd']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('only http(s) feeds');

    await api(t.url, '/api/v1/feeds/MP_SINGLE', { method: 'PUT', token: t.adminToken, json: { status: 0 } });
    const disabled = await json<{ list: FeedView[] }>(['feed', 'list', '--status', 'disabled']);
    expect(disabled.list.map((f) => f.id)).toEqual(['MP_SINGLE']);
    const table = await cli(['feed', 'list']);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+ARTICLES\s+UPDATED\s+NEXT DUE\s+INTERVAL\s+URL/);
    expect(table.stdout).toMatch(/MP_SINGLE\s+Single\s+disabled/);
  });

  it('adds, lists and edits tasks; a cron change reaches the running scheduler', SLOW, async () => {
    const jobs = async () =>
      (await api<{ jobs: Job[] }>(t.url, '/api/v1/cascade/scheduler', { token: t.adminToken })).body.data.jobs;
    // Through --url the parent reloads at once; on the store, its scheduler sees the change within a second or so.
    const scheduled = async (check: (list: Job[]) => boolean): Promise<Job[]> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const list = await jobs();
        if (check(list) || Date.now() > deadline) return list;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const feeds = (await json<{ list: FeedView[] }>(['feed', 'list'])).list.map((f) => f.id);
    const created = await json<MessageTaskView>(['task', 'add', 'every feed', '--all-feeds', '--cron', '0 6 * * *']);
    expect(created).toMatchObject({ name: 'every feed', cron_exp: '0 6 * * *', status: 1 });
    expect(created.mps_id.map((r) => r.id).sort()).toEqual([...feeds].sort());
    if (mode === 'remote')
      expect(await jobs()).toEqual([expect.objectContaining({ task_id: created.id, cron_exp: '0 6 * * *' })]);
    else
      expect(await scheduled((l) => l.length === 1)).toEqual([
        expect.objectContaining({ task_id: created.id, cron_exp: '0 6 * * *' }),
      ]);

    const [first, second] = feeds as [string, string];
    const small = await json<MessageTaskView>(['task', 'add', 'two', '--feeds', `${first},${second}`, '--disabled']);
    expect(small).toMatchObject({ status: 0, cron_exp: '', mps_id: [{ id: first }, { id: second }] });
    const unknown = await cli(['task', 'add', 'broken', '--feeds', 'NO_SUCH_FEED']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("feed 'NO_SUCH_FEED': no such feed");
    expect((await cli(['task', 'add', 'neither'])).code).toBe(2);

    const listed = await json<{ list: MessageTaskView[]; timezone: string }>(['task', 'list']);
    expect(listed.list.map((x) => x.name)).toEqual(['every feed', 'two']);
    expect(listed.timezone).toBe('UTC');
    const table = await cli(['task', 'list']);
    expect(table.stdout).toMatch(/every feed\s+enabled\s+\d+\s+0 6 \* \* \*\s+\d{4}-\d{2}-\d{2}T06:00:00\+00:00/);

    const edited = await json<MessageTaskView>([
      'task',
      'edit',
      'every feed',
      '--cron',
      '30 7 * * *',
      '--remove-feeds',
      first,
      '--name',
      'morning',
    ]);
    expect(edited).toMatchObject({ id: created.id, name: 'morning', cron_exp: '30 7 * * *' });
    expect(edited.mps_id.map((r) => r.id)).not.toContain(first);
    expect(await scheduled((l) => l[0]?.cron_exp === '30 7 * * *')).toEqual([
      expect.objectContaining({ task_id: created.id, cron_exp: '30 7 * * *' }),
    ]);

    const enabled = await json<MessageTaskView>([
      'task',
      'edit',
      small.id,
      '--enable',
      '--add-feeds',
      first,
      '--cron',
      '*/5 * * * *',
    ]);
    expect(enabled).toMatchObject({ status: 1, cron_exp: '*/5 * * * *', mps_id: [{ id: first }, { id: second }] });
    const unscheduled = await json<MessageTaskView>(['task', 'edit', 'morning', '--no-cron', '--disable']);
    expect(unscheduled).toMatchObject({ status: 0, cron_exp: '' });
    expect(await scheduled((l) => l.length === 1)).toEqual([expect.objectContaining({ task_id: small.id })]);

    // The tasks, not the whole store: a local run may touch bookkeeping rows (settings) that are not task data.
    const tasks = async () =>
      JSON.stringify(
        await databaseOf(t.parent.services.store).selectFrom('message_tasks').selectAll().orderBy('id').execute(),
      );
    const before = await tasks();
    const badCron = await cli(['task', 'edit', 'morning', '--cron', '61 * * * *']);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain('--cron:');
    expect((await cli(['task', 'edit', 'morning'])).code).toBe(2);
    expect((await cli(['task', 'edit', 'no such task', '--enable'])).code).toBe(1);
    expect(await tasks()).toBe(before);
  });
});
