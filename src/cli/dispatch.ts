import type { Command } from 'commander';
import { Dispatcher, type DispatchSummary } from '../dispatch/dispatcher.js';
import { NodeNotifier } from '../dispatch/node-notifier.js';
import { createLogger } from '../logger.js';
import { networkPolicy } from '../net/address-policy.js';
import { createGuardedFetch } from '../net/guarded-fetch.js';
import { loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { printFields, printJson, printLine } from './output.js';

type DispatchOptions = CommonOptions & { task?: string };

export function registerDispatch(program: Command): void {
  withCommonOptions(
    program
      .command('dispatch')
      .description('Dispatch one task (--task) or every enabled task now, like POST /dispatch-task.')
      .option('--task <id>', 'the message task to dispatch (default: every enabled task)'),
    { json: true },
  ).action(async (options: DispatchOptions) => {
    const config = loadCliConfig(options);
    // Nodes with an api_url hear of their new work before the command exits (each notify waits 2 s at most).
    const logger = createLogger(config.log_level === 'info' ? 'warn' : config.log_level, process.stderr, config.log_format);
    const summary = await withStore(config, async (store) => {
      const notifier = new NodeNotifier(store, logger, createGuardedFetch(networkPolicy(config.network)));
      const result = await new Dispatcher(store, config.dispatch, undefined, notifier).run({ taskId: options.task, trigger: 'cli' });
      await notifier.settled();
      return result;
    });
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
    ['feeds unassigned', `${summary.feeds_unassigned}${summary.feeds_unassigned > 0 ? ' (no online node had room; any node with room may claim them)' : ''}`],
    ['skipped, in flight', String(summary.feeds_skipped_in_flight)],
    ['skipped, disabled', String(summary.feeds_skipped_disabled)],
    ['skipped, unknown', String(summary.feeds_skipped_unknown)],
    ['schedule run', summary.schedule_run_id],
  ]);
  if (summary.allocations_created > 0) printLine(`See them with: cascade allocations --status pending`);
}
