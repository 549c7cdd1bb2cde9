import type { Kysely, Migration } from 'kysely';

/**
 * Fetch only what is due (issue 17, item 2; docs/refresh.md). Per feed, what src/domain/feed-rhythm.ts learns:
 * - `next_due_at`: when a dispatch includes the feed again (Unix ms; null: due now, as every feed before this);
 * - `refresh_interval_seconds`: the learned interval (null: not learned yet);
 * - `refresh_failures`: failed fetches in a row, for the backoff;
 * - `refresh_hint_seconds`: the longest period the feed last declared (max-age, ttl, sy:updatePeriod), kept
 *   because a 304 answer carries no body to declare it again.
 * No index: the dispatch reads these columns for the task's feeds by primary key.
 */
export function feedRhythmMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('feeds').addColumn('next_due_at', 'bigint').execute();
      await db.schema.alterTable('feeds').addColumn('refresh_interval_seconds', 'integer').execute();
      await db.schema
        .alterTable('feeds')
        .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('feeds').addColumn('refresh_hint_seconds', 'integer').execute();
    },
  };
}
