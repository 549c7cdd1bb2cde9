import { pino, type Logger } from 'pino';

/**
 * One logger for every process. Authorization headers, secrets and passwords are redacted wherever they appear;
 * request bodies are never logged.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'api_secret', '*.api_secret', 'notify_key', '*.notify_key', 'password', '*.password', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stderr,
  );
}

/**
 * On an uncaught exception or unhandled rejection, writes one last `fatal` JSON line with the error before the
 * process exits with 1: without it a crash left only a raw stack trace, outside the log stream a collector reads.
 */
export function logCrashes(logger: Logger, what: string): void {
  const crash = (error: unknown, origin: string): void => {
    logger.fatal({ err: error, origin }, `${what} crashed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  };
  process.on('uncaughtException', (error, origin) => crash(error, origin));
  process.on('unhandledRejection', (reason) => crash(reason, 'unhandledRejection'));
}

/** What RateLimitedLog needs of a logger (pino's and Fastify's both fit). */
export type WarnLogger = { warn(fields: object, message: string): void };

/**
 * A warning that an attacker can trigger at will (refused connections, failed child logins) is logged the first
 * time and then at most once per interval with the count it stood for, so it cannot flood the log or the disk.
 */
export class RateLimitedLog {
  #lastAtMs = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(private readonly intervalMs: number) {}

  warn(logger: WarnLogger, fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    if (nowMs - this.#lastAtMs < this.intervalMs) {
      this.#suppressed += 1;
      return;
    }
    logger.warn({ ...fields, ...(this.#suppressed > 0 ? { suppressed_since_last: this.#suppressed } : {}) }, message);
    this.#lastAtMs = nowMs;
    this.#suppressed = 0;
  }
}
