import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, databaseOf } from '../../src/store/store.js';

describe('migrations 002 and 007: claim order index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-index-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a claim read a node’s pending work in claim order without sorting it (SQLite plan)', async () => {
    const store = await openStore(
      loadConfig({ env: {}, overrides: { 'database.url': `sqlite:${join(dir, 'c.db')}` } }),
    );
    try {
      expect(await store.migrate()).toEqual([
        '001-initial',
        '002-claim-order-index',
        '003-drop-node-status-index',
        '004-unassigned-work-function',
        '005-article-key-per-feed',
        '006-user-token-generation',
        '007-liveness-and-validators',
        '008-deliveries',
        '009-article-ext',
        '010-node-secret-encryption',
        '011-allocation-change-index',
        '012-sealed-webhook-secrets',
        '013-host-politeness',
        '014-feed-rhythm',
        '015-warm-placement-and-progress',
      ]);
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'allocations'`.execute(databaseOf(store));
      const names = indexes.rows.map((r) => r.name);
      expect(names).toContain('allocations_claimable_order_idx');
      expect(names).not.toContain('allocations_claim_idx');
      expect(names).not.toContain('allocations_claim_order_idx');
      // The shape of the claim's candidate query (src/store/allocations/claim.ts), own work and pooled work.
      for (const nodeFilter of [sql`node_id = 'n1'`, sql`node_id is null`]) {
        const plan = await sql<{
          detail: string;
        }>`explain query plan select * from allocations where status = 'pending' and ${nodeFilter} and available_at <= 1 order by claimable_at, id limit 5`.execute(
          databaseOf(store),
        );
        const details = plan.rows.map((r) => r.detail).join('\n');
        expect(details).toContain('allocations_claimable_order_idx');
        expect(details).not.toContain('TEMP B-TREE');
      }
      expect(await store.migrate()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
