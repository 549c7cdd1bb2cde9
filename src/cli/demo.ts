import type { Command } from 'commander';
import { integerOption } from './context.js';

type DemoOptions = { exit?: boolean; timeout: number };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run a local demo: sample-feed server, a parent on SQLite, two children; dispatch one task and show progress.')
    .option('--exit', 'stop after the summary (exit 0 when every allocation reached a final state)')
    .option('--timeout <seconds>', 'with --exit: give up after this many seconds (exit 1)', integerOption(1, 3600), 120)
    .action(async (options: DemoOptions) => {
      const { runDemo } = await import('../demo/run-demo.js');
      process.exitCode = await runDemo({ exitAfterSummary: Boolean(options.exit), timeoutSeconds: options.timeout });
    });
}
