import { PinoPretty } from 'pino-pretty';
import { pino, stdTimeFunctions, type Logger } from 'pino';

/** `auto`: readable lines on a terminal, JSON lines everywhere else (files, pipes, journald, collectors). */
export type LogFormat = 'auto' | 'pretty' | 'json';

const REDACT = {
  paths: [
    'req.headers.authorization',
    'headers.authorization',
    'api_secret',
    '*.api_secret',
    'notify_key',
    '*.notify_key',
    'password',
    '*.password',
    'secret',
    '*.secret',
  ],
  censor: '[redacted]',
};

/**
 * One logger for every process. Authorization headers, secrets and passwords are redacted wherever they appear
 * (before either format renders the line); request bodies are never logged. JSON lines carry an ISO-8601 `time`.
 */
export function createLogger(
  level: string,
  destination: NodeJS.WritableStream = process.stderr,
  format: LogFormat = 'auto',
): Logger {
  const options = { level, redact: REDACT, timestamp: stdTimeFunctions.isoTime };
  if (!prettyLines(destination, format)) return pino(options, destination);
  const colorize = Boolean((destination as { isTTY?: boolean }).isTTY);
  // Synchronous, so the last lines before a crash or process.exit are not lost.
  return pino(
    options,
    PinoPretty({
      destination,
      colorize,
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
      ignore: 'pid,hostname',
    }),
  );
}

function prettyLines(destination: NodeJS.WritableStream, format: LogFormat): boolean {
  if (format !== 'auto') return format === 'pretty';
  return Boolean((destination as { isTTY?: boolean }).isTTY);
}

/**
 * On an uncaught exception or unhandled rejection, writes one last `fatal` line with the error before the
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
