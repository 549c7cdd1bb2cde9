import type { TestProject } from 'vitest/node';
import { redactUrl } from '../src/store/dialects/database-url.js';
import { CHROMIUM_PATH, chromiumAvailable } from './helpers/chromium.js';
import { SERVER_VARIANTS, SQLITE_VARIANT, withMysql, withPostgres, type StoreVariant } from './helpers/databases.js';

/**
 * Decides once per run which store variants the tests cover. An unset admin URL is a skip with one line of
 * reason; an unreachable database is a skip locally and a failure in CI (CI=true), never a silent pass.
 */
export default async function setup(project: TestProject): Promise<void> {
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  const variants: StoreVariant[] = [SQLITE_VARIANT];
  const unreachable: string[] = [];
  const skipped: Partial<Record<StoreVariant['name'], string>> = {};
  for (const server of SERVER_VARIANTS) {
    const adminUrl = process.env[server.envVar];
    if (!adminUrl) {
      skipped[server.name] = `${server.envVar} is not set`;
      console.log(`skipped ${server.label} store tests: ${skipped[server.name]}`);
      continue;
    }
    try {
      if (server.name === 'postgres') await withPostgres(adminUrl, (client) => client.query('select 1'));
      else await withMysql(adminUrl, (connection) => connection.query('select 1'));
      variants.push({ name: server.name, label: server.label, adminUrl });
    } catch (error) {
      const reason = `${server.envVar}=${redactUrl(adminUrl)} is unreachable: ${(error as Error).message}`;
      skipped[server.name] = reason;
      if (inCi) unreachable.push(reason);
      else console.log(`skipped ${server.label} store tests: ${reason}`);
    }
  }
  // In CI the browser suites fail by themselves (test/web/browser.ts); locally one line says why they are skipped.
  if (!chromiumAvailable() && !inCi)
    console.log(`skipped browser tests (test/web): no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
  if (unreachable.length > 0)
    throw new Error(`CI=true and a configured test database is unreachable:\n  ${unreachable.join('\n  ')}`);
  project.provide('cascadeStoreVariants', variants);
  project.provide('cascadeSkippedStores', skipped);
}
