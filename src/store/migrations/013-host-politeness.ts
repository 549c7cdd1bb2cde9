import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { withTableOptions } from '../dialects/ddl.js';

/**
 * Per-host politeness across the fleet (issue 17, docs/politeness.md):
 * - `host_state`: one row per host (registrable domain, or an IP literal / `localhost` as itself) with the feeds of
 *   claimed and executing allocations that fetch from it (`in_flight`), when the last fetch was handed out, and
 *   until when a `Retry-After` the children reported pauses it. Every parent on the database reads and writes the
 *   same rows, with row locks where the database has them, so the limits hold across parents.
 * - `allocations.held_hosts`: what the allocation's claim counted per host (JSON `{host: feeds}`), so that the move
 *   ending or requeuing the work gives back exactly that, even if a feed's URL changed meanwhile.
 */
export function hostPolitenessMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('host_state')
        .$call((t) => withTableOptions(caps, t))
        .addColumn('host', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('in_flight', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_fetch_at', 'bigint')
        .addColumn('paused_until', 'bigint')
        .addColumn('pause_reason', 'varchar(500)')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('allocations').addColumn('held_hosts', 'text').execute();
    },
  };
}
