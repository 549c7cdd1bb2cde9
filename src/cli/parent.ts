import type { Command } from 'commander';
import { createLogger, logCrashes } from '../logger.js';
import { startParent } from '../parent/parent.js';
import { integerOption, loadCliConfig, withCommonOptions, type CommonOptions } from './context.js';

type ParentOptions = CommonOptions & { host?: string; port?: number; logFormat?: string };

export function registerParent(program: Command): void {
  const command = program
    .command('parent')
    .description('Run the parent: HTTP API, dispatcher and scheduler. SIGTERM or SIGINT shuts it down cleanly.')
    .option('--host <address>', 'listen address (overrides `host` / HOST)')
    .option('--port <port>', 'listen port, 0 for any free one (overrides `port` / PORT)', integerOption(0, 65535))
    .option(
      '--log-format <format>',
      'auto (pretty on a terminal, else JSON), pretty or json (overrides `log_format` / CASCADE_LOG_FORMAT)',
    )
    .action(async (options: ParentOptions) => {
      const config = loadCliConfig(options, { host: options.host, port: options.port, log_format: options.logFormat });
      const logger = createLogger(config.log_level, process.stderr, config.log_format);
      logCrashes(logger, 'parent');
      const parent = await startParent(config, logger);
      logger.info({ url: parent.url, docs: `${parent.url}/api/docs` }, `Cascade parent listening on ${parent.url}`);
      // SIGHUP re-reads the TLS certificate and key (after a renewal) without dropping a connection.
      process.on('SIGHUP', () => {
        try {
          if (parent.reloadTls()) logger.info('TLS certificate and key reloaded');
          else logger.warn('SIGHUP ignored: server.tls is not set');
        } catch (error) {
          logger.error({ err: error }, 'TLS reload failed; the previous certificate stays in use');
        }
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          // A second Ctrl-C while requests drain must not crash or double-close; it is only acknowledged.
          if (stopping) {
            logger.warn({ signal }, 'shutdown already in progress; waiting for in-flight requests');
            return;
          }
          stopping = true;
          logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
          parent.close().then(
            () => {
              logger.info('parent stopped');
              resolve();
            },
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exitCode = 1;
              resolve();
            },
          );
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
  withCommonOptions(command, { json: false });
}
