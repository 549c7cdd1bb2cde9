import type { Command } from 'commander';
import type { StatusSummary } from '../store/status-summary.js';
import { query, withApiOptions, type ApiOptions, type CliApi } from './api-client.js';
import { withApi } from './with-api.js';
import { integerOption } from './context.js';
import { formatAge, printJson, printLine, printTable } from './output.js';

type StatusOptions = ApiOptions & {
  watch?: boolean;
  interval: number;
  count?: number;
  staleAfter: number;
  failuresSince: number;
};

/** On a terminal each frame replaces the last: cursor home, clear the screen. */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/** `cascade status [--watch]`: nodes, allocations by status, recent failures and stale feeds on one screen. */
export function registerStatus(program: Command): void {
  withApiOptions(
    program
      .command('status')
      .description(
        'One screen: child nodes (online, load/capacity), allocations by status, recent failures with reasons, stale feeds.',
      )
      .option(
        '-w, --watch',
        'redraw every --interval seconds (in place on a terminal, appended otherwise) until interrupted',
      )
      .option('--interval <s>', 'seconds between frames with --watch (1..3600)', integerOption(1, 3600), 5)
      .option('--count <n>', 'with --watch, stop after this many frames', integerOption(1, Number.MAX_SAFE_INTEGER))
      .option(
        '--stale-after <hours>',
        'an enabled feed is stale after this many hours without a successful update (1..8760)',
        integerOption(1, 8760),
        24,
      )
      .option(
        '--failures-since <minutes>',
        'show failures of the last this many minutes (1..10080)',
        integerOption(1, 10080),
        60,
      ),
    { json: true },
  ).action(async (options: StatusOptions) => {
    const frames = options.watch ? (options.count ?? Number.POSITIVE_INFINITY) : 1;
    const path = `/api/v1/cascade/status${query({ stale_after_hours: options.staleAfter, failures_since_minutes: options.failuresSince })}`;
    await withApi(options, async (api) => {
      for (let frame = 1; frame <= frames; frame += 1) {
        const summary = await api.call<StatusSummary>('GET', path);
        showFrame(summary, api, options, frame);
        if (frame < frames) await sleep(options.interval * 1000);
      }
    });
  });
}

function showFrame(summary: StatusSummary, api: CliApi, options: StatusOptions, frame: number): void {
  if (options.json) {
    // One document per frame; with --watch, one per line so a reader can split the stream.
    if (options.watch) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else printJson(summary);
    return;
  }
  if (options.watch && process.stdout.isTTY) process.stdout.write(CLEAR_SCREEN);
  else if (frame > 1) printLine();
  printStatus(summary, api.target, options.watch ? `every ${options.interval}s, Ctrl-C to stop` : undefined);
}

function printStatus(summary: StatusSummary, target: string, watching: string | undefined): void {
  const now = Date.parse(summary.generated_at);
  const { nodes, allocations, failures, stale_feeds: stale } = summary;
  printLine(`Cascade status of ${target} at ${summary.generated_at}${watching ? ` (${watching})` : ''}`);
  printLine();
  printLine(
    `NODES: ${nodes.online} online, ${nodes.offline} offline, ${nodes.disabled} disabled; load ${nodes.load}/${nodes.capacity} on the online ones`,
  );
  if (nodes.list.length > 0) {
    printTable(
      ['NAME', 'STATE', 'LOAD', 'HEARTBEAT', 'VERSION'],
      nodes.list.map((n) => [
        n.name,
        n.liveness,
        `${n.current_tasks}/${n.max_capacity}`,
        formatAge(n.last_heartbeat_at, now),
        n.version ?? '-',
      ]),
    );
  } else printLine('(no child nodes; add one with `cascade node add NAME`)');
  printLine();
  printLine(`ALLOCATIONS: ${allocations.total}`);
  printLine(
    Object.entries(allocations.by_status)
      .map(([status, count]) => `${status} ${count}`)
      .join('  '),
  );
  printLine();
  printLine(`FAILURES since ${failures.since}: ${failures.total}`);
  if (failures.list.length > 0) {
    printTable(
      ['WHEN', 'TASK', 'NODE', 'STATUS', 'REASON'],
      failures.list.map((f) => [
        formatAge(f.at, now),
        f.task_name || f.task_id,
        f.node_name ?? f.node_id ?? '-',
        f.status,
        oneLine(f.error_message ?? '-'),
      ]),
    );
    if (failures.total > failures.list.length)
      printLine(`(${failures.list.length} of ${failures.total}; see \`cascade allocations --status failed\`)`);
  }
  printLine();
  printLine(`STALE FEEDS (enabled, no successful update for ${stale.stale_after_hours} h): ${stale.total}`);
  if (stale.list.length > 0) {
    printTable(
      ['FEED', 'NAME', 'LAST SUCCESS'],
      stale.list.map((f) => [
        f.id,
        f.mp_name,
        f.last_success_at === null ? 'never' : formatAge(f.last_success_at, now),
      ]),
    );
    if (stale.total > stale.list.length) printLine(`(${stale.list.length} of ${stale.total})`);
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
