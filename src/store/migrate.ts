import { Migrator, type Kysely, type Migration, type MigrationInfo, type MigrationResultSet } from 'kysely';
import { CascadeError } from '../errors/cascade-error.js';
import type { Capabilities } from './dialects/capabilities.js';
import { initialMigration } from './migrations/001-initial.js';
import { claimOrderIndexMigration } from './migrations/002-claim-order-index.js';
import { dropNodeStatusIndexMigration } from './migrations/003-drop-node-status-index.js';
import { unassignedWorkFunctionMigration } from './migrations/004-unassigned-work-function.js';
import { articleKeyPerFeedMigration } from './migrations/005-article-key-per-feed.js';
import { userTokenGenerationMigration } from './migrations/006-user-token-generation.js';
import { livenessAndValidatorsMigration } from './migrations/007-liveness-and-validators.js';
import { deliveriesMigration } from './migrations/008-deliveries.js';
import { articleExtMigration } from './migrations/009-article-ext.js';
import { nodeSecretEncryptionMigration } from './migrations/010-node-secret-encryption.js';
import { allocationChangeIndexMigration } from './migrations/011-allocation-change-index.js';
import { sealedWebhookSecretsMigration } from './migrations/012-sealed-webhook-secrets.js';
import { hostPolitenessMigration } from './migrations/013-host-politeness.js';
import { feedRhythmMigration } from './migrations/014-feed-rhythm.js';
import { warmPlacementAndProgressMigration } from './migrations/015-warm-placement-and-progress.js';
import type { Database } from './tables.js';

/** Versioned migrations in order. Add a new file and a line here; never edit a migration that has shipped. */
function allMigrations(caps: Capabilities): Record<string, Migration> {
  return {
    '001-initial': initialMigration(caps),
    '002-claim-order-index': claimOrderIndexMigration(caps),
    '003-drop-node-status-index': dropNodeStatusIndexMigration(caps),
    '004-unassigned-work-function': unassignedWorkFunctionMigration(caps),
    '005-article-key-per-feed': articleKeyPerFeedMigration(caps),
    '006-user-token-generation': userTokenGenerationMigration(),
    '007-liveness-and-validators': livenessAndValidatorsMigration(caps),
    '008-deliveries': deliveriesMigration(caps),
    '009-article-ext': articleExtMigration(caps),
    '010-node-secret-encryption': nodeSecretEncryptionMigration(caps),
    '011-allocation-change-index': allocationChangeIndexMigration(),
    '012-sealed-webhook-secrets': sealedWebhookSecretsMigration(caps),
    '013-host-politeness': hostPolitenessMigration(caps),
    '014-feed-rhythm': feedRhythmMigration(),
    '015-warm-placement-and-progress': warmPlacementAndProgressMigration(),
  };
}

function migrator(db: Kysely<Database>, caps: Capabilities): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => allMigrations(caps) },
    migrationTableName: 'cascade_migrations',
    migrationLockTableName: 'cascade_migrations_lock',
  });
}

/** Applies pending migrations; running it again changes nothing. Returns the names applied now. */
export async function migrateToLatest(db: Kysely<Database>, caps: Capabilities): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db, caps).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new CascadeError('UNAVAILABLE', `Migration ${failed} failed: ${(result.error as Error).message}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of every migration this build knows, in the order they apply. */
export function knownMigrationNames(caps: Capabilities): string[] {
  return Object.keys(allMigrations(caps)).sort();
}

export async function migrationState(db: Kysely<Database>, caps: Capabilities): Promise<readonly MigrationInfo[]> {
  return migrator(db, caps).getMigrations();
}
