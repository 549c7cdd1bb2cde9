import type { Command } from 'commander';
import { ChildAgent } from '../child/agent.js';
import { resolveChildSettings } from '../child/child-settings.js';
import { loadConfig } from '../config/load.js';
import { loadExecutor } from '../executors/load.js';
import { createLogger, logCrashes } from '../logger.js';

type ChildOptions = { config?: string; once?: boolean; logFormat?: string };

export function registerChild(program: Command): void {
  program
    .command('child')
    .description(
      'Run a child node: heartbeat, claim work from the parent, fetch feeds, report results. SIGTERM/SIGINT drain and exit 0.',
    )
    .option('-c, --config <path>', 'config file (default: $CASCADE_CONFIG, else ./config.yaml when present)')
    .option('--once', 'claim until the parent has no work, finish it, then exit')
    .option(
      '--log-format <format>',
      'auto (pretty on a terminal, else JSON), pretty or json (overrides `log_format` / CASCADE_LOG_FORMAT)',
    )
    .action(async (options: ChildOptions) => {
      // Missing URL, key or secret is a ConfigError naming the setting: the CLI exits 2.
      const config = loadConfig({ configPath: options.config, overrides: { log_format: options.logFormat } });
      const settings = resolveChildSettings(config);
      const executor = await loadExecutor(settings.executor, {
        timeoutMs: settings.fetchTimeoutMs,
        maxBytes: settings.fetchMaxBytes,
        maxRedirects: 5,
      });
      const logger = createLogger(config.log_level, process.stderr, config.log_format);
      logCrashes(logger, 'child');
      const agent = new ChildAgent({ settings, executor, logger, once: Boolean(options.once) });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals === 1) {
          logger.info(
            { signal, grace_s: settings.shutdownGraceMs / 1000 },
            'stopping: no new claims, finishing in-flight work',
          );
          void agent.stop();
        } else {
          logger.warn({ signal }, 'already stopping; unfinished results stay in the outbox for the next start');
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await agent.run();
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
