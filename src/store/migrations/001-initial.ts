import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { withTableOptions } from '../dialects/ddl.js';

/** The first schema. One definition for all dialects; `caps` supplies the few column types that differ. */
export function initialMigration(caps: Capabilities): Migration {
  const autoId = () => (caps.autoIncrementType === 'serial' ? sql`serial` : sql.raw(caps.autoIncrementType));
  const longText = sql.raw(caps.longTextType);
  // PostgreSQL's `serial` is already auto-incrementing and rejects an AUTO_INCREMENT keyword.
  const autoPrimaryKey = (c: ColumnDefinitionBuilder) =>
    caps.autoIncrementType === 'serial' ? c.primaryKey() : c.primaryKey().autoIncrement();
  // MySQL tables take the server's default character set (often latin1) and a case-insensitive collation; pin
  // utf8mb4 with a binary collation so Chinese names store and ids compare exactly as on SQLite and PostgreSQL.
  const createTable = (db: Kysely<unknown>, name: string) =>
    db.schema.createTable(name).$call((t) => withTableOptions(caps, t));
  return {
    // Migrations receive an untyped handle: the schema they build is what later defines the types.
    async up(db: Kysely<unknown>): Promise<void> {
      await createTable(db, 'nodes')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('node_type', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
        .addColumn('description', 'varchar(1000)', (c) => c.notNull().defaultTo(''))
        .addColumn('api_url', 'varchar(1000)')
        .addColumn('callback_url', 'varchar(1000)')
        .addColumn('api_key', 'varchar(64)', (c) => c.unique())
        .addColumn('api_secret_hash', 'varchar(255)')
        .addColumn('notify_key', 'varchar(128)')
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('max_capacity', 'integer', (c) => c.notNull().defaultTo(10))
        .addColumn('feed_quota', 'text', (c) => c.notNull())
        .addColumn('load_feeds', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reported_tasks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_heartbeat_at', 'bigint')
        .addColumn('last_sync_at', 'bigint')
        .addColumn('version', 'varchar(100)')
        .addColumn('hostname', 'varchar(255)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await createTable(db, 'users')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('username', 'varchar(191)', (c) => c.notNull().unique())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await createTable(db, 'feeds')
        .addColumn('id', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('mp_name', 'varchar(500)', (c) => c.notNull().defaultTo(''))
        .addColumn('mp_cover', 'varchar(2000)', (c) => c.notNull().defaultTo(''))
        .addColumn('mp_intro', 'text', (c) => c.notNull())
        .addColumn('faker_id', 'varchar(500)', (c) => c.notNull().defaultTo(''))
        .addColumn('url', 'varchar(2000)', (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('sync_time', 'bigint')
        .addColumn('update_time', 'bigint')
        .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await createTable(db, 'message_tasks')
        .addColumn('id', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(500)', (c) => c.notNull())
        .addColumn('message_type', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('message_template', 'text', (c) => c.notNull())
        .addColumn('web_hook_url', 'varchar(2000)', (c) => c.notNull().defaultTo(''))
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('cookies', 'text', (c) => c.notNull())
        .addColumn('mps_id', longText, (c) => c.notNull())
        .addColumn('cron_exp', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await createTable(db, 'allocations')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('task_id', 'varchar(191)', (c) => c.notNull())
        .addColumn('task_name', 'varchar(500)', (c) => c.notNull())
        .addColumn('node_id', 'varchar(64)')
        .addColumn('feed_ids', longText, (c) => c.notNull())
        .addColumn('feed_count', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('available_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('placement', 'varchar(1000)', (c) => c.notNull().defaultTo(''))
        .addColumn('result_summary', longText)
        .addColumn('error_message', 'text')
        .addColumn('dispatched_at', 'bigint', (c) => c.notNull())
        .addColumn('claimed_at', 'bigint')
        .addColumn('started_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .addColumn('schedule_run_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('new_article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // Claim scans: pending work of one node, or unassigned pending work, oldest first.
      await db.schema
        .createIndex('allocations_claim_idx')
        .on('allocations')
        .columns(['status', 'node_id', 'available_at', 'created_at'])
        .execute();
      await db.schema
        .createIndex('allocations_lease_idx')
        .on('allocations')
        .columns(['status', 'lease_expires_at'])
        .execute();
      await db.schema
        .createIndex('allocations_task_idx')
        .on('allocations')
        .columns(['task_id', 'created_at'])
        .execute();
      await db.schema.createIndex('allocations_run_idx').on('allocations').column('schedule_run_id').execute();
      await db.schema.createIndex('allocations_node_idx').on('allocations').columns(['node_id', 'status']).execute();

      await createTable(db, 'allocation_feeds')
        .addColumn('allocation_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('feed_id', 'varchar(191)', (c) => c.notNull())
        .addPrimaryKeyConstraint('allocation_feeds_pk', ['allocation_id', 'feed_id'])
        .execute();
      await db.schema
        .createIndex('allocation_feeds_feed_idx')
        .on('allocation_feeds')
        .columns(['feed_id', 'allocation_id'])
        .execute();

      await createTable(db, 'live_feeds')
        .addColumn('feed_id', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('allocation_id', 'varchar(64)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('live_feeds_allocation_idx').on('live_feeds').column('allocation_id').execute();

      await createTable(db, 'allocation_attempts')
        .addColumn('id', autoId(), autoPrimaryKey)
        .addColumn('allocation_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('claimed_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('outcome', 'varchar(32)')
        .addColumn('error_message', 'text')
        .execute();
      await db.schema
        .createIndex('allocation_attempts_allocation_idx')
        .on('allocation_attempts')
        .columns(['allocation_id', 'attempt'])
        .execute();

      await createTable(db, 'articles')
        .addColumn('id', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('mp_id', 'varchar(191)', (c) => c.notNull())
        .addColumn('title', 'varchar(1000)', (c) => c.notNull().defaultTo(''))
        .addColumn('url', 'varchar(2000)', (c) => c.notNull().defaultTo(''))
        .addColumn('pic_url', 'varchar(2000)', (c) => c.notNull().defaultTo(''))
        .addColumn('description', longText, (c) => c.notNull())
        .addColumn('content', longText, (c) => c.notNull())
        .addColumn('content_markdown', longText, (c) => c.notNull())
        .addColumn('publish_time', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('allocation_id', 'varchar(64)')
        .addColumn('node_id', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('articles_feed_time_idx').on('articles').columns(['mp_id', 'publish_time']).execute();

      await createTable(db, 'sync_logs')
        .addColumn('id', autoId(), autoPrimaryKey)
        .addColumn('node_id', 'varchar(64)')
        .addColumn('operation', 'varchar(64)', (c) => c.notNull())
        .addColumn('direction', 'varchar(8)', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('data_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_message', 'text')
        .addColumn('extra_data', longText)
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      await db.schema.createIndex('sync_logs_node_idx').on('sync_logs').columns(['node_id', 'started_at']).execute();

      await createTable(db, 'settings')
        .addColumn('key', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await createTable(db, 'schedule_ticks')
        .addColumn('task_id', 'varchar(191)', (c) => c.notNull())
        .addColumn('scheduled_at', 'bigint', (c) => c.notNull())
        .addColumn('schedule_run_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('fired_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('schedule_ticks_pk', ['task_id', 'scheduled_at'])
        .execute();
    },
  };
}
