import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ALL_STATUSES } from '../../src/domain/allocation-states.js';
import { openStore, databaseOf } from '../../src/store/store.js';

describe('migration 003: drop the (node_id, status) index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-index-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves every node-filtered allocation query on the claim order index (SQLite plan)', async () => {
    const store = await openStore(
      loadConfig({ env: {}, overrides: { 'database.url': `sqlite:${join(dir, 'n.db')}` } }),
    );
    try {
      await store.migrate();
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'allocations'`.execute(databaseOf(store));
      expect(indexes.rows.map((r) => r.name)).not.toContain('allocations_node_idx');
      const statuses = (list: readonly string[]): RawBuilder<unknown> => sql.join(list.map((s) => sql.lit(s)));
      // Heartbeat lease extension, a node's pending work (release), its live work (delete), the admin list by node.
      const filters = [
        sql`status in (${statuses(['claimed', 'executing'])}) and node_id = 'n1'`,
        sql`status = 'pending' and node_id = 'n1'`,
        sql`status in (${statuses(['pending', 'claimed', 'executing'])}) and node_id = 'n1'`,
        sql`node_id = 'n1' and status in (${statuses(ALL_STATUSES)})`,
      ];
      for (const filter of filters) {
        const plan = await sql<{
          detail: string;
        }>`explain query plan select * from allocations where ${filter}`.execute(databaseOf(store));
        expect(plan.rows.map((r) => r.detail).join('\n')).toContain('USING INDEX allocations_claimable_order_idx');
      }
    } finally {
      await store.close();
    }
  });
});
