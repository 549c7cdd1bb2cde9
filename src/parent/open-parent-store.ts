import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { CascadeError } from '../errors/cascade-error.js';
import { redactUrl } from '../store/dialects/database-url.js';
import { openStore, type Store } from '../store/store.js';
import { isDatabaseUnavailable } from '../store/dialects/transient-error.js';

/** How long a starting parent waits for an unreachable database: longer than a server restart takes. */
const DATABASE_STARTUP_WAIT_MS = 60_000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

export type StartupWait = { waitMs?: number; sleep?: (ms: number) => Promise<void> };

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens and migrates the parent's store, and seals secrets an older version stored in plain text. A database that cannot be reached yet (a server still starting or
 * restarting, a parent started before its database by a supervisor) is retried with backoff for `waitMs`, each retry
 * logged, instead of the parent exiting on the first refused connection. Any other error (bad credentials, a
 * database that does not exist, a failing migration) ends the start at once.
 */
export async function openParentStore(
  config: Readonly<Config>,
  logger: Logger,
  wait: StartupWait = {},
): Promise<Store> {
  const waitMs = wait.waitMs ?? DATABASE_STARTUP_WAIT_MS;
  const sleep = wait.sleep ?? realSleep;
  const started = Date.now();
  for (let retryMs = FIRST_RETRY_MS; ; retryMs = Math.min(retryMs * 2, MAX_RETRY_MS)) {
    let store: Store | undefined;
    try {
      store = await openStore(config, logger);
      await store.migrate();
      await sealLegacySecrets(store, logger);
      return store;
    } catch (error) {
      await store?.close().catch(() => undefined);
      if (!isDatabaseUnavailable(error)) throw error;
      const waited = Date.now() - started;
      const reason = (error as Error).message;
      if (waited + retryMs > waitMs) {
        throw new CascadeError(
          'UNAVAILABLE',
          `The database at ${redactUrl(config.database.url)} did not answer for ${Math.round(waited / 1000)} s (${reason}); check that it runs and that database.url is right.`,
        );
      }
      logger.warn(
        { database: redactUrl(config.database.url), reason, retryInMs: retryMs },
        'database unreachable at startup; retrying',
      );
      await sleep(retryMs);
    }
  }
}

/** Secrets written in plain text by older versions (notify keys before migration 010, webhook secrets before 012). */
async function sealLegacySecrets(store: Store, logger: Logger): Promise<void> {
  const notifyKeys = await store.nodes.sealLegacyNotifyKeys();
  const webhookSecrets = await store.tasks.sealLegacySecrets();
  if (notifyKeys + webhookSecrets > 0)
    logger.info({ notifyKeys, webhookSecrets }, 'sealed secrets stored in plain text by an older version');
}
