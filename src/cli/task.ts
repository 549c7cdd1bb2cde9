import { Option, type Command } from 'commander';
import type { SchedulerState } from '../dispatch/scheduler.js';
import type { FeedView } from '../store/feeds.js';
import type { FeedRef, MessageTaskView } from '../store/message-tasks.js';
import { ApiError, segment, withApiOptions, type ApiOptions, type CliApi } from './api-client.js';
import { withApi } from './with-api.js';
import { CommandFailed, UsageError } from './errors.js';
import { printJson, printLine } from './output.js';
import { printTask, printTaskTable } from './task-views.js';

type AddOptions = ApiOptions & { feeds?: string[]; allFeeds?: boolean; cron?: string; disabled?: boolean };
type EditOptions = ApiOptions & {
  name?: string;
  cron?: string | false;
  addFeeds?: string[];
  removeFeeds?: string[];
  enable?: boolean;
  disable?: boolean;
};

/** `--feeds a,b --feeds c`: every id, in order, once. */
function feedIds(value: string, previous: string[] = []): string[] {
  return [
    ...new Set([
      ...previous,
      ...value
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ]),
  ];
}

/**
 * `cascade task add|list|edit`: message tasks (what to update, and when) through the management API, on the local
 * store or `--url`. A cron change is picked up by the running parent's scheduler at once through `--url`, and within
 * a second otherwise (it watches the tasks); `list` shows each next run in the scheduler's time zone.
 */
export function registerTask(program: Command): void {
  const task = program.command('task').description('Message tasks: which feeds to update, and on what cron schedule.');

  withApiOptions(
    task
      .command('add <name>')
      .description(
        'Create a task over some feeds (--feeds) or every feed stored now (--all-feeds), on a cron schedule or dispatched by hand.',
      )
      .option('--feeds <ids>', 'feed ids, comma-separated (repeatable)', feedIds)
      .option('--all-feeds', 'every feed stored now (feeds added later join with `task edit --add-feeds`)')
      .option(
        '--cron <expr>',
        "5 fields (minute hour day month weekday) or 6 (seconds first), in the parent's scheduler.timezone",
      )
      .option('--disabled', 'create it disabled (neither cron nor dispatch-all runs it)'),
    { json: true },
  ).action(async (name: string, options: AddOptions) => {
    if ((options.feeds === undefined) === (options.allFeeds !== true))
      throw new UsageError('Name the feeds with --feeds ID,ID or take all with --all-feeds (one of the two).');
    const { created, timezone } = await withApi(options, async (api) => {
      const ids = options.allFeeds
        ? (await api.listAll<FeedView>('/api/v1/feeds')).map((f) => f.id)
        : (options.feeds ?? []);
      if (ids.length === 0)
        throw new CommandFailed(
          'There are no feeds yet; add some with `cascade feed add URL` or `cascade feed import FILE`.',
        );
      const body = {
        name,
        mps_id: ids.map((id) => ({ id })),
        cron_exp: options.cron ?? '',
        status: options.disabled ? 0 : 1,
      };
      const view = await withFlagNames(api.call<MessageTaskView>('POST', '/api/v1/message-tasks', body), body.mps_id);
      return { created: view, timezone: await schedulerZone(api) };
    });
    if (options.json) return printJson(created);
    printLine('Task created.');
    printTask(created, timezone);
  });

  withApiOptions(task.command('list').description('List tasks with their feeds, schedule and next run.'), {
    json: true,
  }).action(async (options: ApiOptions) => {
    const { list, timezone } = await withApi(options, async (api) => ({
      list: await api.listAll<MessageTaskView>('/api/v1/message-tasks'),
      timezone: await schedulerZone(api),
    }));
    if (options.json) return printJson({ list, total: list.length, timezone });
    if (list.length === 0)
      return printLine('No tasks yet; create one with `cascade task add NAME --all-feeds --cron "*/30 * * * *"`.');
    printTaskTable(list, timezone);
  });

  withApiOptions(
    task
      .command('edit <id-or-name>')
      .description('Change a task: its name, schedule, feeds or status. Only what is given changes.')
      .option('--name <name>', 'a new name')
      .option('--cron <expr>', 'a new cron schedule')
      .option('--no-cron', 'remove the schedule (dispatch by hand only)')
      .option('--add-feeds <ids>', 'feed ids to add, comma-separated (repeatable)', feedIds)
      .option('--remove-feeds <ids>', 'feed ids to remove, comma-separated (repeatable)', feedIds)
      .addOption(new Option('--enable', 'enable it').conflicts('disable'))
      .addOption(new Option('--disable', 'disable it (cron and dispatch-all skip it)').conflicts('enable')),
    { json: true },
  ).action(async (idOrName: string, options: EditOptions) => {
    const { updated, timezone } = await withApi(options, async (api) => {
      const current = await taskByIdOrName(api, idOrName);
      const patch = taskPatch(current, options);
      const view = await withFlagNames(
        api.call<MessageTaskView>('PUT', `/api/v1/message-tasks/${segment(current.id)}`, patch),
        patch.mps_id ?? [],
      );
      return { updated: view, timezone: await schedulerZone(api) };
    });
    if (options.json) return printJson(updated);
    printLine('Task updated.');
    printTask(updated, timezone);
  });
}

function taskPatch(
  current: MessageTaskView,
  options: EditOptions,
): { name?: string; cron_exp?: string; mps_id?: FeedRef[]; status?: number } {
  const patch: { name?: string; cron_exp?: string; mps_id?: FeedRef[]; status?: number } = {};
  if (options.name !== undefined) patch.name = options.name;
  // Commander sets `cron: true` when neither --cron nor --no-cron is given (the default of a negatable option).
  if (typeof options.cron === 'string') patch.cron_exp = options.cron;
  if (options.cron === false) patch.cron_exp = '';
  if (options.enable) patch.status = 1;
  if (options.disable) patch.status = 0;
  if (options.addFeeds || options.removeFeeds) {
    const has = new Set(current.mps_id.map((ref) => ref.id));
    const missing = (options.removeFeeds ?? []).filter((id) => !has.has(id));
    if (missing.length > 0)
      throw new UsageError(`--remove-feeds: the task has no feed ${missing.map((id) => `'${id}'`).join(', ')}.`);
    const removed = new Set(options.removeFeeds ?? []);
    // Kept entries keep whatever else the console stored with them (such as mp_name).
    const kept = current.mps_id.filter((ref) => !removed.has(ref.id));
    const added = (options.addFeeds ?? []).filter((id) => !has.has(id)).map((id) => ({ id }));
    patch.mps_id = [...kept, ...added];
  }
  if (Object.keys(patch).length === 0)
    throw new UsageError(
      'Nothing to change: give --name, --cron or --no-cron, --add-feeds, --remove-feeds, --enable or --disable.',
    );
  return patch;
}

/** The task with this id, else the one task with this name; two tasks of one name must be told apart by id. */
async function taskByIdOrName(api: CliApi, idOrName: string): Promise<MessageTaskView> {
  const tasks = await api.listAll<MessageTaskView>('/api/v1/message-tasks');
  const byId = tasks.find((t) => t.id === idOrName);
  if (byId) return byId;
  const named = tasks.filter((t) => t.name === idOrName);
  if (named.length === 1) return named[0] as MessageTaskView;
  if (named.length > 1)
    throw new CommandFailed(
      `${named.length} tasks are named '${idOrName}'; give one of their ids: ${named.map((t) => t.id).join(', ')}.`,
    );
  throw new CommandFailed(`Task '${idOrName}' does not exist (see \`cascade task list\`).`);
}

/** The API names the body's fields (`mps_id.2.id`, `cron_exp`); the person typed flags: say it in their words. */
async function withFlagNames<T>(call: Promise<T>, refs: readonly FeedRef[]): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (!(error instanceof ApiError) || error.details.length === 0) throw error;
    const said = error.details.map((d) => {
      if (d.path === 'cron_exp') return `--cron: ${d.message}`;
      const feed = /^mps_id\.(\d+)/.exec(d.path);
      if (feed)
        return `feed '${refs[Number(feed[1])]?.id ?? '?'}': ${d.message.replace(/^unknown feed id '.*'$/, 'no such feed (see `cascade feed list`)')}`;
      return `${d.path}: ${d.message}`;
    });
    throw new ApiError(error.status, error.code, said.join('; '), error.details);
  }
}

async function schedulerZone(api: CliApi): Promise<string> {
  return (await api.call<SchedulerState>('GET', '/api/v1/cascade/scheduler')).timezone;
}
