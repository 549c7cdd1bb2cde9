import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';

/**
 * Articles were keyed by `id` alone and uploads upserted on it, so a child holding an allocation for one feed could
 * replace another feed's article by reusing its id (issue 12, defect 5). An article's id is only unique within its
 * feed (the original system took it from the feed's entries), so the key becomes `(mp_id, id)`. Every stored row
 * keeps its values: a key on one column is also unique on two.
 */
export function articleKeyPerFeedMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (caps.primaryKeyChange === 'constraint') {
        await sql`alter table articles drop constraint articles_pkey, add constraint articles_pkey primary key (mp_id, id)`.execute(
          db,
        );
        return;
      }
      if (caps.primaryKeyChange === 'drop-primary-key') {
        await sql`alter table articles drop primary key, add primary key (mp_id, id)`.execute(db);
        return;
      }
      // SQLite cannot change a primary key in place: copy into a table with the new key, then swap the names. The
      // columns repeat 001's on purpose: a migration that has shipped never changes, so this one keeps its own copy.
      const longText = sql.raw(caps.longTextType);
      await db.schema
        .createTable('articles_keyed')
        .addColumn('id', 'varchar(191)', (c) => c.notNull())
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
        .addPrimaryKeyConstraint('articles_pkey', ['mp_id', 'id'])
        .execute();
      await sql`insert into articles_keyed select id, mp_id, title, url, pic_url, description, content, content_markdown, publish_time, allocation_id, node_id, created_at, updated_at from articles`.execute(
        db,
      );
      await db.schema.dropTable('articles').execute();
      await db.schema.alterTable('articles_keyed').renameTo('articles').execute();
      await db.schema.createIndex('articles_feed_time_idx').on('articles').columns(['mp_id', 'publish_time']).execute();
    },
  };
}
