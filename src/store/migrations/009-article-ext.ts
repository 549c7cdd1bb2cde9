import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';

/**
 * `articles.ext`: the JSON object the original Python child uploads with each article (`ext`, extra fields of the
 * source such as read counts), kept as it came; null when the child sent none.
 */
export function articleExtMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('articles').addColumn('ext', sql.raw(caps.longTextType)).execute();
    },
  };
}
