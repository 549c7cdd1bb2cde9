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
