import type { Command } from 'commander';
import type { DispatchSummary } from '../dispatch/dispatcher.js';
import { query, withApiOptions, type ApiOptions } from './api-client.js';
import { withApi } from './with-api.js';
import { printFields, printJson, printLine } from './output.js';

type DispatchOptions = ApiOptions & { task?: string; force?: boolean };

export function registerDispatch(program: Command): void {
  withApiOptions(
    program
      .command('dispatch')
      .description('Dispatch one task (--task) or every enabled task now, like POST /dispatch-task.')
      .option('--task <id>', 'the message task to dispatch (default: every enabled task)')
      .option('--force', 'dispatch every enabled feed, also those not due yet (docs/refresh.md)'),
    { json: true },
  ).action(async (options: DispatchOptions) => {
    // Locally, nodes with an api_url hear of their new work before the command exits (api-local.ts waits for it).
    const summary = await withApi(options, (api) =>
      api.call<DispatchSummary>(
        'POST',
        `/api/v1/cascade/dispatch-task${query({ task_id: options.task, force: options.force ? 'true' : undefined })}`,
      ),
    );
    if (options.json) return printJson(summary);
    printSummary(summary);
  });
}

function printSummary(summary: DispatchSummary): void {
  printFields([
    ['online nodes', String(summary.online_nodes)],
    ['tasks', summary.tasks.map((t) => `${t.name} (${t.id}, ${t.mp_count} feeds)`).join('; ') || 'none enabled'],
    ['allocations created', String(summary.allocations_created)],
    ['feeds assigned', String(summary.feeds_assigned)],
    [
      'feeds unassigned',
      `${summary.feeds_unassigned}${summary.feeds_unassigned > 0 ? ' (no online node had room; any node with room may claim them)' : ''}`,
    ],
    ['skipped, in flight', String(summary.feeds_skipped_in_flight)],
    ['skipped, disabled', String(summary.feeds_skipped_disabled)],
    ['skipped, unknown', String(summary.feeds_skipped_unknown)],
    [
      'skipped, not due',
      summary.feeds_skipped_not_due > 0
        ? `${summary.feeds_skipped_not_due} (the next due at ${summary.next_due_at ?? 'unknown'})`
        : summary.forced
          ? '0 (forced)'
          : '0',
    ],
    ['schedule run', summary.schedule_run_id],
  ]);
  if (summary.allocations_created > 0) printLine(`See them with: cascade allocations --status pending`);
  // Nothing due is an answer, not an error (exit 0): say what happens next and how to fetch anyway.
  if (summary.feeds_skipped_not_due > 0) {
    const nothing = summary.allocations_created === 0 ? 'Nothing dispatched: ' : '';
    printLine(
      `${nothing}${summary.feeds_skipped_not_due} feed(s) are not due yet; \`cascade feed list\` shows when each is. Fetch them now with --force.`,
    );
  }
}
