import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/child/outbox.js';

const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-outbox-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('outbox', () => {
  it('keeps queued calls across a close and reopen, oldest first', () => {
    const dir = freshDir();
    const first = new Outbox(dir);
    first.enqueue({
      method: 'PUT',
      path: '/task-status',
      allocationId: 'A',
      body: { allocation_id: 'A', status: 'executing' },
    });
    first.enqueue({
      method: 'POST',
      path: '/upload-articles',
      allocationId: 'A',
      body: { allocation_id: 'A', articles: [{ id: 'x' }] },
    });
    first.enqueue({ method: 'POST', path: '/report-completion', allocationId: 'B', body: { allocation_id: 'B' } });
    first.close();

    const reopened = new Outbox(dir);
    expect(reopened.size()).toBe(3);
    const entries = reopened.peek();
    expect(entries.map((e) => e.path)).toEqual(['/task-status', '/upload-articles', '/report-completion']);
    expect(entries[1]?.body).toEqual({ allocation_id: 'A', articles: [{ id: 'x' }] });
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    reopened.remove(entries[0]?.seq as number);
    expect(reopened.peek(1)[0]?.path).toBe('/upload-articles');
    expect(reopened.removeAllocation('A')).toBe(1);
    expect(reopened.peek().map((e) => e.allocationId)).toEqual(['B']);
    reopened.close();
  });

  it('keeps no conditional-GET validators: a table left by an older child is dropped (the parent holds them)', () => {
    const dir = freshDir();
    const old = new Database(join(dir, 'child.db'));
    old.exec(
      "CREATE TABLE http_validators (feed_id TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, updated_at_ms INTEGER NOT NULL); INSERT INTO http_validators VALUES ('F1', '\"abc\"', NULL, 1)",
    );
    old.close();
    new Outbox(dir).close();
    const reopened = new Database(join(dir, 'child.db'));
    expect(reopened.prepare("SELECT name FROM sqlite_master WHERE name = 'http_validators'").all()).toEqual([]);
    reopened.close();
  });
});
