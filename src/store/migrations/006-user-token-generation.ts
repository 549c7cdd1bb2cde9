import type { Kysely, Migration } from 'kysely';

/**
 * A login token names the user's token generation; changing the password, disabling or enabling the user moves
 * it on, so every token issued before stops working. Without it, re-enabling a user revived their old tokens
 * until they expired.
 */
export function userTokenGenerationMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('users')
        .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
