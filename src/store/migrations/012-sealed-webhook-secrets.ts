import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';

/**
 * `message_tasks.webhook_secret` holds the secret sealed by SecretBox from now on (docs/security.md, "Secrets at
 * rest"): a 500-character secret grows to about 2,700 characters sealed. SQLite does not enforce lengths; the
 * server stores widen the column. Plain secrets written before are sealed when a parent starts
 * (src/parent/open-parent-store.ts), not here: the key may live in the config, which migrations do not see.
 */
export function sealedWebhookSecretsMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (caps.columnWidening === 'not-enforced') return;
      await db.schema
        .alterTable('message_tasks')
        .$call((t) =>
          caps.columnWidening === 'modify-column'
            ? t.modifyColumn('webhook_secret', 'varchar(3000)', (c) => c.notNull().defaultTo(''))
            : t.alterColumn('webhook_secret', (c) => c.setDataType('varchar(3000)')),
        )
        .execute();
    },
  };
}
