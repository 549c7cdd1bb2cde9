import type { Kysely, Migration } from 'kysely';

/**
 * What fleet-aware crawling (issue #17, items 3 and 4) needs from the schema:
 * - `feeds.last_node_id`: the node whose completion the parent last accepted for the feed (a succeeded result).
 *   Placement prefers that node while it has room (warm DNS, TLS sessions, kept-alive connections). Not a foreign
 *   key: a deleted node simply never matches an online one again.
 * - `allocations.progress_at`, `progress_feeds_done`, `progress_bytes_read`: the progress a Cascade child reports
 *   with its heartbeats for the attempt it runs, and when it last moved (null: nothing reported for this attempt,
 *   so no stall detection; the original child never reports any).
 * - `allocations.stalled_at`: when the sweeper found the attempt making no progress for `dispatch.stall_seconds`
 *   while its node kept beating; cleared when progress resumes and by the next claim.
 */
export function warmPlacementAndProgressMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('feeds').addColumn('last_node_id', 'varchar(64)').execute();
      await db.schema.alterTable('allocations').addColumn('progress_at', 'bigint').execute();
      await db.schema
        .alterTable('allocations')
        .addColumn('progress_feeds_done', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('allocations')
        .addColumn('progress_bytes_read', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('allocations').addColumn('stalled_at', 'bigint').execute();
    },
  };
}
