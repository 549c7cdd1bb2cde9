import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { withTableOptions } from '../dialects/ddl.js';

/**
 * Deliveries (the notification outbox), the articles each one carries, a per-task webhook secret and a per-user
 * feed token version. Deliveries are written by the article upload's own transaction (src/store/deliveries/outbox.ts)
 * and sent by src/delivery/sender.ts; `delivery_articles` is keyed by delivery and article so a retried append
 * cannot list an article twice.
 */
export function deliveriesMigration(caps: Capabilities): Migration {
  const createTable = (db: Kysely<unknown>, name: string) =>
    db.schema.createTable(name).$call((t) => withTableOptions(caps, t));
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTable(db, 'deliveries')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('task_id', 'varchar(191)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('batch_closes_at', 'bigint', (c) => c.notNull())
        .addColumn('available_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_response', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // The sender's scan (pending and due, or sending with an expired lease) and the outbox's open-batch lookup.
      await db.schema.createIndex('deliveries_due_idx').on('deliveries').columns(['status', 'available_at']).execute();
      await db.schema
        .createIndex('deliveries_task_idx')
        .on('deliveries')
        .columns(['task_id', 'status', 'created_at'])
        .execute();

      await createTable(db, 'delivery_articles')
        .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('mp_id', 'varchar(191)', (c) => c.notNull())
        .addColumn('article_id', 'varchar(191)', (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_articles_pk', ['delivery_id', 'mp_id', 'article_id'])
        .execute();

      await db.schema
        .alterTable('message_tasks')
        .addColumn('webhook_secret', 'varchar(500)', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('feed_token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
