import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/tables.js';

const TABLES = [
  'feeds',
  'message_tasks',
  'users',
  'sync_logs',
  'nodes',
  'articles',
  'allocations',
  'allocation_feeds',
  'live_feeds',
  'allocation_attempts',
  'schedule_ticks',
  'settings',
] as const;

/** Every row of every table the API can write, as one string, to prove a refused request changed nothing. */
export async function dumpStore(db: Kysely<Database>): Promise<string> {
  const tables: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute();
    tables[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return JSON.stringify(tables);
}
