import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';
import { SyncLogStatus } from '../../src/store/sync-logs.js';

describeEachStore('SyncLogsStore', (dialect) => {
  let t: { store: Store };
  beforeAll(async () => {
    t = { store: await openTestStore(await dialect.createDatabase()) };
  });
  afterAll(async () => t?.store.close());

  it('records entries and lists them newest first with filters', async () => {
    const base = Date.parse('2026-11-27T09:00:00.000Z');
    const entry = (node_id: string | null, operation: string, minute: number) => ({
      node_id,
      operation,
      direction: 'push' as const,
      status: SyncLogStatus.success,
      data_count: minute,
      error_message: null,
      extra_data: { minute, list: [1, 'two'] },
      started_at: base + minute * 60_000,
      completed_at: base + minute * 60_000 + 500,
    });
    const first = await t.store.syncLogs.record(entry('n1', 'report_result', 1));
    const second = await t.store.syncLogs.record(entry('n2', 'report_result', 2));
    await t.store.syncLogs.record(entry('n1', 'feeds_pull', 3));
    await t.store.syncLogs.record({
      ...entry(null, 'feeds_pull', 4),
      extra_data: null,
      completed_at: null,
      status: SyncLogStatus.failed,
      error_message: 'boom',
    });
    expect(second).toBeGreaterThan(first);

    const all = await t.store.syncLogs.list({}, 50, 0);
    expect(all.total).toBe(4);
    expect(all.list.map((log) => log.data_count)).toEqual([4, 3, 2, 1]);
    expect(all.list[0]).toMatchObject({
      node_id: null,
      status: 2,
      error_message: 'boom',
      extra_data: null,
      completed_at: null,
    });
    expect(all.list[3]).toEqual({
      id: first,
      node_id: 'n1',
      operation: 'report_result',
      direction: 'push',
      status: 1,
      data_count: 1,
      error_message: null,
      extra_data: { minute: 1, list: [1, 'two'] },
      started_at: '2026-11-27T09:01:00.000Z',
      completed_at: '2026-11-27T09:01:00.500Z',
    });
    expect((await t.store.syncLogs.list({ node_id: 'n1' }, 50, 0)).list.map((log) => log.data_count)).toEqual([3, 1]);
    expect((await t.store.syncLogs.list({ node_id: 'n1', operation: 'report_result' }, 50, 0)).total).toBe(1);
    const paged = await t.store.syncLogs.list({}, 1, 1);
    expect(paged).toMatchObject({ total: 4, list: [{ data_count: 3 }] });
  });
});
