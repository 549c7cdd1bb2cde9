import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/store/store.js';

/** A migrated store over `databaseUrl`, configured from defaults plus dotted-path overrides. */
export async function openTestStore(databaseUrl: string, overrides: Record<string, unknown> = {}): Promise<Store> {
  const config = loadConfig({ env: {}, overrides: { 'database.url': databaseUrl, ...overrides } });
  const store = await openStore(config);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
