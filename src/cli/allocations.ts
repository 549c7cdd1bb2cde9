import { Option, type Command } from 'commander';
import { ALL_STATUSES } from '../domain/allocation-states.js';
import type { AllocationView, AttemptView } from '../store/allocations/views.js';
import { query, segment, withApiOptions, type ApiOptions } from './api-client.js';
import { withApi } from './with-api.js';
import { integerOption } from './context.js';
import { formatAge, printFields, printJson, printLine, printTable } from './output.js';

/** What GET /allocations/{id} answers: the allocation with its attempts. */
type AllocationDetail = AllocationView & { attempts?: AttemptView[] };

type ListOptions = ApiOptions & { task?: string; status?: string; node?: string; limit: number; offset: number };

export function registerAllocations(program: Command): void {
  withApiOptions(
    program
      .command('allocations')
      .description('List allocations, newest first, optionally filtered by task, status or node.')
      .option('--task <id>', 'only this message task')
      .addOption(new Option('--status <status>', 'only this status').choices([...ALL_STATUSES]))
      .option('--node <id-or-name>', 'only allocations held by or assigned to this node (an unknown node matches none)')
      .option('--limit <n>', 'at most this many (1..10000)', integerOption(1, 10000), 50)
      .option('--offset <n>', 'skip this many first', integerOption(0, Number.MAX_SAFE_INTEGER), 0),
    { json: true },
  ).action(async (options: ListOptions) => {
    const { list, total } = await withApi(options, async (api) => {
      // The API pages at most 200 rows at a time; a larger --limit reads several pages.
      const rows: AllocationView[] = [];
      let found = 0;
      for (let offset = options.offset; rows.length < options.limit;) {
        // The API resolves the node (id or name) by the same rule for every client: one it does not know matches nothing.
        const filter = {
          task_id: options.task,
          status: options.status,
          node_name: options.node,
          limit: Math.min(200, options.limit - rows.length),
          offset,
        };
        const page = await api.call<{ list: AllocationView[]; total: number }>(
          'GET',
          `/api/v1/cascade/allocations${query(filter)}`,
        );
        found = page.total;
        rows.push(...page.list);
        offset += page.list.length;
        if (page.list.length === 0 || offset >= page.total) break;
      }
      return { list: rows, total: found };
    });
    if (options.json) return printJson({ list, total, limit: options.limit, offset: options.offset });
    if (list.length === 0)
      return printLine(
        total === 0 ? 'No allocations match.' : `No allocations at offset ${options.offset} (total ${total}).`,
      );
    const now = Date.now();
    printTable(
      ['ID', 'TASK', 'NODE', 'STATUS', 'ATTEMPT', 'FEEDS', 'UPDATED'],
      list.map((a) => [
        a.id,
        a.task_name || a.task_id,
        a.node_name ?? (a.node_id ? a.node_id : '(unassigned)'),
        a.status,
        `${a.attempt}/${a.max_attempts}`,
        feedsCell(a.feed_ids),
        formatAge(a.updated_at, now),
      ]),
    );
    if (total > list.length) printLine(`(${list.length} of ${total}; use --limit and --offset for more)`);
  });

  const allocation = program.command('allocation').description('Inspect, cancel or retry one allocation.');
  registerMove(
    allocation,
    'cancel',
    'Cancel a pending, claimed or executing allocation (its node drops it; its feeds are free for the next dispatch).',
    'cancelled',
  );
  registerMove(
    allocation,
    'retry',
    'Requeue a failed, timed-out or cancelled allocation (pending again, for any node with room).',
    'requeued',
  );
  withApiOptions(
    allocation.command('show <id>').description('Show one allocation with its placement and attempt history.'),
    { json: true },
  ).action(async (id: string, options: ApiOptions) => {
    const view = await withApi(options, (api) =>
      api.call<AllocationDetail>('GET', `/api/v1/cascade/allocations/${segment(id)}`),
    );
    if (options.json) return printJson(view);
    printFields([
      ['id', view.id],
      ['task', `${view.task_name} (${view.task_id})`],
      ['node', view.node_id ? `${view.node_name ?? '?'} (${view.node_id})` : '(unassigned)'],
      ['status', view.status],
      ['attempt', `${view.attempt} of ${view.max_attempts}`],
      ['feeds', view.feed_ids.join(', ')],
      ['placement', view.placement || '-'],
      ['lease expires', view.lease_expires_at ?? '-'],
      ['available at', view.available_at ?? '-'],
      ['dispatched', view.dispatched_at ?? '-'],
      ['claimed', view.claimed_at ?? '-'],
      ['started', view.started_at ?? '-'],
      ['completed', view.completed_at ?? '-'],
      ['articles', `${view.article_count} (${view.new_article_count} new)`],
      ['error', view.error_message ?? '-'],
      ['schedule run', view.schedule_run_id],
    ]);
    const attempts = view.attempts ?? [];
    if (attempts.length === 0) return;
    printLine();
    printTable(
      ['ATTEMPT', 'NODE', 'CLAIMED', 'ENDED', 'OUTCOME', 'ERROR'],
      attempts.map((a) => [
        String(a.attempt),
        a.node_name ?? a.node_id,
        a.claimed_at ?? '-',
        a.ended_at ?? '-',
        a.outcome ?? '-',
        a.error_message ?? '',
      ]),
    );
  });
}

/** `allocation cancel|retry ID`: one move of the allocation through the API, which keeps its state machine. */
function registerMove(allocation: Command, move: 'cancel' | 'retry', description: string, done: string): void {
  withApiOptions(allocation.command(`${move} <id>`).description(description), { json: true }).action(
    async (id: string, options: ApiOptions) => {
      const view = await withApi(options, (api) =>
        api.call<AllocationView>('POST', `/api/v1/cascade/allocations/${segment(id)}/${move}`),
      );
      if (options.json) return printJson(view);
      printLine(`Allocation ${view.id} ${done}: now ${view.status} (attempt ${view.attempt} of ${view.max_attempts}).`);
    },
  );
}

function feedsCell(feedIds: readonly string[]): string {
  if (feedIds.length <= 2) return feedIds.join(',');
  return `${feedIds.slice(0, 2).join(',')} +${feedIds.length - 2}`;
}
