import type { LevelWithSilent } from 'pino';
import type { Config } from '../config/schema.js';

/**
 * The route log level of requests that come all day (child calls, health probes): their access lines appear only
 * when the parent runs at debug or trace, so they do not drown the sweeper's lines; errors are logged always.
 */
export function quietRouteLogLevel(config: Pick<Config, 'log_level'>): LevelWithSilent {
  return config.log_level === 'debug' || config.log_level === 'trace' ? config.log_level : 'warn';
}
