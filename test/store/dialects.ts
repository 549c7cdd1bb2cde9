import type { Store } from '../../src/store/store.js';
import { createTestDatabase, storeVariants, type StoreVariant } from '../helpers/databases.js';
import { openTestStore as openMigratedStore } from '../helpers/store.js';

/**
 * The stores these store tests run against, from test/helpers/databases.ts (SQLite always; PostgreSQL and
 * MySQL/MariaDB when configured and reachable — the global setup prints why a variant is skipped).
 */
export type DialectTarget = { name: StoreVariant['name']; variant: StoreVariant; skipReason: undefined };

export function dialectTargets(): DialectTarget[] {
  return storeVariants().map((variant) => ({ name: variant.name, variant, skipReason: undefined }));
}

export type TestStore = { store: Store; close(): Promise<void> };

/** A migrated store in a database of its own, dropped on close. */
export async function openTestStore(target: DialectTarget): Promise<TestStore> {
  const database = await createTestDatabase(target.variant);
  const store = await openMigratedStore(database.url);
  return {
    store,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}
