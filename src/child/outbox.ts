import { join } from 'node:path';
import Database from 'better-sqlite3';
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
 * (replayed oldest first, across restarts). Conditional-GET validators are not kept here: the parent holds them
 * and sends them in each package (a child that kept its own advanced them before the parent took the articles).
 */
export class Outbox {
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
      DROP TABLE IF EXISTS http_validators;
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
      seq: number;
      allocation_id: string;
      method: string;
      path: string;
      body: string;
      attempts: number;
      created_at_ms: number;
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

  /** Allocations with calls still queued: the child holds them until the parent took their reports. */
  allocationIds(): string[] {
    return (this.db.prepare('SELECT DISTINCT allocation_id FROM outbox').all() as Array<{ allocation_id: string }>).map(
      (row) => row.allocation_id,
    );
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}
