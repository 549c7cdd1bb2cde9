import type { Kysely, Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';
import { withTableOptions } from '../dialects/ddl.js';

/**
 * Signed child requests (docs/security.md, "Request signing"):
 * - `nodes.api_secret_sealed`: the node's API secret under the parent's secrets key (AES-256-GCM), so the parent can
 *   verify HMACs; null for nodes created before this migration until their next rotation.
 * - `nodes.require_signed`: 1 refuses the plain `AK-SK key:secret` header for that node.
 * - `request_nonces`: nonces seen inside the timestamp window; the primary key makes a replay fail as one insert,
 *   also across several parent processes on one database.
 */
export function nodeSecretEncryptionMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('nodes').addColumn('api_secret_sealed', 'varchar(255)').execute();
      await db.schema
        .alterTable('nodes')
        .addColumn('require_signed', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('request_nonces')
        .$call((t) => withTableOptions(caps, t))
        .addColumn('node_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('nonce', 'varchar(64)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('request_nonces_pk', ['node_id', 'nonce'])
        .execute();
      await db.schema.createIndex('request_nonces_expires_at').on('request_nonces').column('expires_at').execute();
    },
  };
}
