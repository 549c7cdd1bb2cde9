import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startParent } from '../../src/parent/parent.js';
import { emit, scriptInput } from '../lib/script-process.js';

/** The parent under test, in a process of its own: starts, reports its URL, closes gracefully on SIGTERM. */
const input = scriptInput<{ databaseUrl: string; overrides?: Record<string, unknown> }>();
const config = loadConfig({
  env: {},
  overrides: {
    host: '127.0.0.1',
    port: 0,
    log_level: 'warn',
    'database.url': input.databaseUrl,
    'scheduler.enabled': false,
    // As in bench/lib/seed.ts: the seeded feeds share one host, so politeness would measure its own interval.
    'politeness.enabled': false,
    ...input.overrides,
  },
});
const parent = await startParent(config, createLogger(config.log_level));
emit('ready', { url: parent.url, pid: process.pid });
const stop = () => void parent.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
