import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { dropIndex } from '../dialects/ddl.js';

/**
 * `allocations_node_idx` (node_id, status) duplicated `allocations_claim_order_idx` (status, node_id, created_at,
 * id) for every query that names statuses: heartbeats' lease extension, releasing a node's pending work, deleting a
 * node. The one query that did not, the admin list filtered by node only, now names every status
 * (src/store/allocations/views.ts). Checked with EXPLAIN on SQLite, PostgreSQL and MariaDB over 100,000 allocations
 * on 50 nodes: each of those queries uses the claim order index without the other one. Every status change wrote
 * both indexes; now it writes one, a page less in most commits of a claim cycle.
 */
export function dropNodeStatusIndexMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await dropIndex(db, caps, 'allocations_node_idx', 'allocations').execute();
    },
  };
}
