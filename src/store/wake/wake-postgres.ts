import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { StoreLogger } from '../dialects/connect.js';
import type { Database } from '../tables.js';
import { InProcessWakeChannel, type WakeChannel } from './wake-channel.js';

export const WAKE_CHANNEL_NAME = 'cascade_work';
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/**
 * Cross-process wake-ups over PostgreSQL LISTEN/NOTIFY. `publish` sends NOTIFY through the store's pool and wakes
 * local subscribers at once; a dedicated client LISTENs for the other parents. The listening client connects on
 * the first subscription and reconnects with backoff after any error. Every (re)connect wakes local subscribers,
 * because a notification sent while the client was away is lost and a spurious wake only costs one re-check.
 */
export class PostgresWakeChannel implements WakeChannel {
  /** Subscribers in this process; cross-process delivery feeds into it. */
  private readonly local = new InProcessWakeChannel();
  /** Tags our own notifications so this process does not wake its subscribers twice. */
  private readonly instanceId = randomUUID();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly url: string,
    private readonly logger: StoreLogger,
  ) {}

  async publish(): Promise<void> {
    this.local.deliver();
    if (this.closed) return;
    try {
      await sql`select pg_notify(${WAKE_CHANNEL_NAME}, ${this.instanceId})`.execute(this.db);
    } catch (error) {
      // The work is committed; other parents still find it when their long-polls time out.
      this.logger.warn({ err: error }, 'could not notify other parents of new work');
    }
  }

  /** Waiters in this process (tests wait for a long-poll to park before dispatching). */
  get subscriberCount(): number {
    return this.local.subscriberCount;
  }

  subscribe(listener: () => void): () => void {
    const unsubscribe = this.local.subscribe(listener);
    if (!this.client && !this.connecting && !this.reconnectTimer && !this.closed) this.connect();
    return unsubscribe;
  }

  /** Resolves once the LISTEN is in place (tests use it to avoid racing the first notification). */
  async ready(): Promise<void> {
    if (this.closed || this.client) return;
    if (!this.connecting) {
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.connect();
    }
    await this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.local.close();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): void {
    this.connecting = (async () => {
      // Loaded here, not at the top: a parent on another store never pays for importing the driver.
      const { default: pgDriver } = await import('pg');
      const client = new pgDriver.Client({
        connectionString: this.url,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      client.on('notification', (message) => {
        if (message.channel === WAKE_CHANNEL_NAME && message.payload !== this.instanceId) this.local.deliver();
      });
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
      try {
        await client.connect();
        await client.query(`listen ${WAKE_CHANNEL_NAME}`);
        if (this.closed) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
        this.reconnectDelayMs = RECONNECT_MIN_MS;
        // A notification sent while no LISTEN was in place is lost: every waiter re-checks the store.
        this.local.deliver();
      } catch (error) {
        this.lost(client, error as Error);
      } finally {
        this.connecting = undefined;
      }
    })();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || (this.client !== undefined && this.client !== client)) return;
    if (this.client === client) this.client = undefined;
    // A dead client can still emit (a late 'error' or 'end'); it must not reach lost() again, or a second reconnect
    // could be scheduled while the first is connecting and leave an orphaned LISTEN client behind.
    client.removeAllListeners('end');
    client.removeAllListeners('error');
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.reconnectTimer) return;
    this.logger.warn({ err: error, retryInMs: this.reconnectDelayMs }, 'LISTEN connection lost; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.connect();
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, RECONNECT_MAX_MS);
  }
}
