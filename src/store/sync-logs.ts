import type { Kysely } from 'kysely';
import type { Capabilities } from './dialects/capabilities.js';
import type { Database, SyncLogTable } from './tables.js';
import { iso, parseJson } from './time.js';

export const SyncLogStatus = Object.freeze({ running: 0, success: 1, failed: 2 } as const);
export type SyncLogStatus = (typeof SyncLogStatus)[keyof typeof SyncLogStatus];

export type SyncDirection = 'pull' | 'push';

export type SyncLogEntry = {
  node_id: string | null;
  operation: string;
  direction: SyncDirection;
  status: SyncLogStatus;
  data_count: number;
  error_message: string | null;
  /** Any JSON value; stored as text. */
  extra_data: unknown;
  started_at: number;
  completed_at: number | null;
};

export type SyncLogView = {
  id: number;
  node_id: string | null;
  operation: string;
  direction: string;
  status: number;
  data_count: number;
  error_message: string | null;
  extra_data: unknown;
  started_at: string | null;
  completed_at: string | null;
};

type SyncLogRow = Omit<SyncLogTable, 'id'> & { id: number };

function toSyncLogView(row: SyncLogRow): SyncLogView {
  return {
    id: Number(row.id),
    node_id: row.node_id,
    operation: row.operation,
    direction: row.direction,
    status: Number(row.status),
    data_count: Number(row.data_count),
    error_message: row.error_message,
    extra_data: parseJson<unknown>(row.extra_data, null),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
  };
}

export type SyncLogFilter = { node_id?: string | undefined; operation?: string | undefined };

/** An append-only record of sync operations between parent and children (and the legacy report-result). */
export class SyncLogsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
  ) {}

  /** Appends one entry and returns its id. */
  async record(entry: SyncLogEntry): Promise<number> {
    const values = {
      node_id: entry.node_id,
      operation: entry.operation,
      direction: entry.direction,
      status: entry.status,
      data_count: entry.data_count,
      error_message: entry.error_message,
      extra_data: entry.extra_data === undefined || entry.extra_data === null ? null : JSON.stringify(entry.extra_data),
      started_at: entry.started_at,
      completed_at: entry.completed_at,
    };
    if (this.caps.returning) {
      const row = await this.db.insertInto('sync_logs').values(values).returning('id').executeTakeFirstOrThrow();
      return Number(row.id);
    }
    const result = await this.db.insertInto('sync_logs').values(values).executeTakeFirstOrThrow();
    return Number(result.insertId);
  }

  /** Newest first. */
  async list(filter: SyncLogFilter, limit: number, offset: number): Promise<{ list: SyncLogView[]; total: number }> {
    let query = this.db.selectFrom('sync_logs');
    if (filter.node_id !== undefined) query = query.where('node_id', '=', filter.node_id);
    if (filter.operation !== undefined) query = query.where('operation', '=', filter.operation);
    const rows = await query
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map(toSyncLogView), total: Number(total.n) };
  }
}
