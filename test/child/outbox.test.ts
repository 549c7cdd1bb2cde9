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
    first.enqueue({ method: 'PUT', path: '/task-status', allocationId: 'A', body: { allocation_id: 'A', status: 'executing' } });
    first.enqueue({ method: 'POST', path: '/upload-articles', allocationId: 'A', body: { allocation_id: 'A', articles: [{ id: 'x' }] } });
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

  it('remembers conditional-GET validators per feed across reopen', () => {
    const dir = freshDir();
    const outbox = new Outbox(dir);
    expect(outbox.get('F1')).toBeUndefined();
    outbox.set('F1', { etag: '"abc"', lastModified: 'Thu, 01 Oct 2026 00:00:00 GMT' });
    outbox.set('F1', { etag: '"def"' });
    outbox.close();
    const reopened = new Outbox(dir);
    expect(reopened.get('F1')).toEqual({ etag: '"def"', lastModified: undefined });
    reopened.close();
  });
});
