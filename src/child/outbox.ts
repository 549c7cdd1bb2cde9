import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { HttpValidators, ValidatorCache } from '../executors/types.js';
import { preparePrivateSqliteFile, type ModeFinding } from '../store/file-modes.js';

/** A call to the parent that must reach it eventually, in order. */
export type OutboxCall = {
  method: 'POST' | 'PUT';
  path: string;
  body: unknown;
  allocationId: string;
};

export type OutboxEntry = OutboxCall & { seq: number; attempts: number; createdAtMs: number };

/**
 * The child's local memory, one small SQLite file in `cascade.data_dir`: calls the parent did not take yet
 * (replayed oldest first, across restarts) and the conditional-GET validators of each feed.
 */
export class Outbox implements ValidatorCache {
  private readonly db: Database.Database;
  /** Store files that other users could read, narrowed to 0600 at open (the agent logs them). */
  readonly modeFindings: readonly ModeFinding[];

  constructor(dataDir: string) {
    const filename = join(dataDir, 'child.db');
    this.modeFindings = preparePrivateSqliteFile(filename);
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        allocation_id TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS http_validators (
        feed_id TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        updated_at_ms INTEGER NOT NULL
      );
    `);
  }

  enqueue(call: OutboxCall): number {
    const result = this.db
      .prepare('INSERT INTO outbox (allocation_id, method, path, body, created_at_ms) VALUES (?, ?, ?, ?, ?)')
      .run(call.allocationId, call.method, call.path, JSON.stringify(call.body), Date.now());
    return Number(result.lastInsertRowid);
  }

  /** Oldest first. */
  peek(limit = 100): OutboxEntry[] {
    const rows = this.db.prepare('SELECT * FROM outbox ORDER BY seq LIMIT ?').all(limit) as Array<{
      seq: number; allocation_id: string; method: string; path: string; body: string; attempts: number; created_at_ms: number;
    }>;
    return rows.map((row) => ({
      seq: row.seq,
      allocationId: row.allocation_id,
      method: row.method as OutboxCall['method'],
      path: row.path,
      body: JSON.parse(row.body) as unknown,
      attempts: row.attempts,
      createdAtMs: row.created_at_ms,
    }));
  }

  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  remove(seq: number): void {
    this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq);
  }

  /** Drops every queued call of one allocation (its lease is gone; replaying would only get 409 again). */
  removeAllocation(allocationId: string): number {
    return this.db.prepare('DELETE FROM outbox WHERE allocation_id = ?').run(allocationId).changes;
  }

  noteAttempt(seq: number): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?').run(seq);
  }

  get(feedId: string): HttpValidators | undefined {
    const row = this.db.prepare('SELECT etag, last_modified FROM http_validators WHERE feed_id = ?').get(feedId) as
      | { etag: string | null; last_modified: string | null }
      | undefined;
    return row ? { etag: row.etag ?? undefined, lastModified: row.last_modified ?? undefined } : undefined;
  }

  set(feedId: string, validators: HttpValidators): void {
    this.db
      .prepare(
        `INSERT INTO http_validators (feed_id, etag, last_modified, updated_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT(feed_id) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, updated_at_ms = excluded.updated_at_ms`,
      )
      .run(feedId, validators.etag ?? null, validators.lastModified ?? null, Date.now());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
