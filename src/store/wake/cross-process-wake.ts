import type { Kysely } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import type { StoreLogger } from '../dialects/connect.js';
import type { Database } from '../tables.js';
import type { WakeChannel } from './wake-channel.js';
import { PollingWakeChannel } from './wake-poll.js';
import { PostgresWakeChannel } from './wake-postgres.js';

/** A wake channel whose `ready()` resolves once it would notice another process's publish. */
export type CrossProcessWake = WakeChannel & { ready(): Promise<void>; readonly subscriberCount: number };

/** A wake channel that reaches every parent on the database: LISTEN/NOTIFY on PostgreSQL, a store poll elsewhere. */
export function createCrossProcessWake(
  db: Kysely<Database>,
  caps: Capabilities,
  url: string,
  logger: StoreLogger,
  pollIntervalMs?: number,
): CrossProcessWake {
  return caps.crossProcessWake === 'listen-notify'
    ? new PostgresWakeChannel(db, url, logger)
    : new PollingWakeChannel(db, logger, pollIntervalMs);
}
