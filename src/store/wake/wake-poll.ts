import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StoreLogger } from '../dialects/connect.js';
import type { Database } from '../tables.js';
import { InProcessWakeChannel, type WakeChannel } from './wake-channel.js';

/** The `settings` row whose value changes every time any process makes work claimable. */
const WORK_EPOCH_KEY = 'work_epoch';
const DEFAULT_WAKE_POLL_INTERVAL_MS = 250;

/**
 * Cross-process wake-ups for stores without LISTEN/NOTIFY (MySQL/MariaDB, and SQLite shared by a parent and CLI
 * processes). `publish` writes a fresh token into the `work_epoch` setting and wakes local subscribers at once;
 * while anyone is subscribed, the channel reads the row every `pollIntervalMs` and wakes its subscribers when the
 * token changed. Another parent's work is therefore noticed within one interval (docs/scaling-out.md).
 */
export class PollingWakeChannel implements WakeChannel {
  /** Subscribers in this process; cross-process delivery feeds into it. */
  private readonly local = new InProcessWakeChannel();
  /** Last token seen; kept while nobody listens so a change in between still wakes the next subscriber. */
  private lastSeen: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped whenever polling stops or starts, so a poll still in flight from an older chain does not continue it. */
  private chain = 0;
  private polling: Promise<void> | undefined;
  private writing: Promise<void> | undefined;
  private writeAgain = false;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: StoreLogger,
    private readonly pollIntervalMs = DEFAULT_WAKE_POLL_INTERVAL_MS,
  ) {}

  publish(): Promise<void> {
    this.local.deliver();
    if (this.closed) return Promise.resolve();
    // Coalesce bursts: while one write is in flight, later publishes share one follow-up write.
    if (this.writing) {
      this.writeAgain = true;
      return this.writing;
    }
    this.writing = (async () => {
      do {
        this.writeAgain = false;
        await this.bumpEpoch().catch((error: unknown) =>
          this.logger.warn({ err: error }, 'could not record new work for other parents'),
        );
      } while (this.writeAgain && !this.closed);
      this.writing = undefined;
    })();
    return this.writing;
  }

  /** Waiters in this process (tests wait for a long-poll to park before dispatching). */
  get subscriberCount(): number {
    return this.local.subscriberCount;
  }

  subscribe(listener: () => void): () => void {
    const unsubscribe = this.local.subscribe(listener);
    if (!this.timer && !this.closed) this.schedulePoll(0);
    return () => {
      unsubscribe();
      // Nobody waits here any more: stop reading the store until someone subscribes again.
      if (this.local.subscriberCount === 0) this.stopPolling();
    };
  }

  /** Resolves after a fresh read of the epoch, so any later wake comes from a later change (tests rely on it). */
  async ready(): Promise<void> {
    await this.polling;
    await this.poll();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.local.close();
    this.stopPolling();
    await this.polling;
    await this.writing;
  }

  private async bumpEpoch(): Promise<void> {
    const token = `${Date.now()}-${randomUUID()}`;
    const result = await this.db
      .updateTable('settings')
      .set({ value: token })
      .where('key', '=', WORK_EPOCH_KEY)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return;
    try {
      await this.db.insertInto('settings').values({ key: WORK_EPOCH_KEY, value: token }).execute();
    } catch {
      // Another process created the row first; overwrite its token so the change is still visible.
      await this.db.updateTable('settings').set({ value: token }).where('key', '=', WORK_EPOCH_KEY).execute();
    }
  }

  private schedulePoll(delayMs: number, chain = ++this.chain): void {
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (chain === this.chain && this.local.subscriberCount > 0 && !this.closed)
          this.schedulePoll(this.pollIntervalMs, chain);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      const row = await this.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', WORK_EPOCH_KEY)
        .executeTakeFirst();
      const token = row?.value ?? '';
      const changed = this.lastSeen !== token;
      this.lastSeen = token;
      // The very first read has nothing to compare with: wake anyway, a spurious wake only costs one re-check.
      if (changed) this.local.deliver();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read the work epoch; retrying');
    }
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.chain += 1;
  }
}
