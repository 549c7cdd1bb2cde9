import type { Command } from 'commander';
import { SAMPLE_FEEDS_PORT, serveSampleFeeds } from '../demo/feeds-only.js';
import { integerOption } from './context.js';
import { UsageError } from './errors.js';

type DemoOptions = { exit?: boolean; timeout: number; feedsOnly?: boolean; port?: number };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run a local demo: sample-feed server, a parent on SQLite, two children; dispatch one task and show progress.',
    )
    .option('--exit', 'stop after the summary (exit 0 when every allocation reached a final state)')
    .option('--timeout <seconds>', 'with --exit: give up after this many seconds (exit 1)', integerOption(1, 3600), 120)
    .option(
      '--feeds-only',
      'only serve the sample feeds and an OPML list of them (/feeds.opml) on 127.0.0.1, until Ctrl-C',
    )
    .option(
      '--port <n>',
      `with --feeds-only: the port to listen on (default ${SAMPLE_FEEDS_PORT}; 0: any free port)`,
      integerOption(0, 65535),
    )
    .action(async (options: DemoOptions) => {
      if (options.feedsOnly) {
        if (options.exit)
          throw new UsageError('--exit and --feeds-only do not go together: the feed server runs until Ctrl-C.');
        process.exitCode = await serveSampleFeeds({ port: options.port ?? SAMPLE_FEEDS_PORT });
        return;
      }
      if (options.port !== undefined)
        throw new UsageError('--port goes with --feeds-only (the full demo picks free ports itself).');
      const { runDemo } = await import('../demo/run-demo.js');
      process.exitCode = await runDemo({ exitAfterSummary: Boolean(options.exit), timeoutSeconds: options.timeout });
    });
}
