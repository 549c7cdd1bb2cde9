import type { Command } from 'commander';
import { ConfigError, parentUrls } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { redactUrl } from '../store/database-url.js';
import { migrationState } from '../store/migrate.js';
import { openStore } from '../store/store.js';
import { checkChild } from '../child/check.js';
import { loadCliConfig, sqliteFileMissing, withCommonOptions, type CommonOptions } from './context.js';
import { CommandFailed } from './errors.js';
import { printFields, printJson, printLine } from './output.js';

type StoreState = { reachable: boolean; pending_migrations: string[] | null; error?: string };

export function registerCheck(program: Command): void {
  withCommonOptions(
    program
      .command('check')
      .description('Validate the configuration and print a summary; a child also authenticates against its parent.'),
    { json: true },
  ).action(async (options: CommonOptions) => {
    const config = loadCliConfig(options);
    if (config.cascade.node_type === 'child') return checkChildConfig(config, options);
    const store = await probeStore(config);
    const summary = {
      config_valid: true,
      role: 'parent',
      enabled: config.cascade.enabled,
      database: redactUrl(config.database.url),
      listen: `${config.host}:${config.port}`,
      jwt_key: config.secret ? 'from config (secret / SECRET_KEY)' : 'kept in the store',
      store,
    };
    if (options.json) printJson(summary);
    else {
      printFields([
        ['config', 'valid'],
        ['role', 'parent'],
        ['database', summary.database],
        ['listen', summary.listen],
        ['JWT key', summary.jwt_key],
        ['store', describeStore(store)],
      ]);
    }
    if (!store.reachable) throw new CommandFailed(`the store is not reachable: ${store.error ?? 'unknown error'}`);
  });
}

async function checkChildConfig(config: Readonly<Config>, options: CommonOptions): Promise<void> {
  assertChildSettings(config);
  const result = await checkChild(config);
  if (options.json) printJson({ config_valid: true, role: 'child', parent_urls: parentUrls(config), ...result });
  else {
    printFields([
      ['config', 'valid'],
      ['role', 'child'],
      ['parent_api_url', parentUrls(config).join(', ') || '-'],
      ['api_key', config.cascade.api_key ?? '-'],
    ]);
    for (const parent of result.parents) {
      printLine(parent.ok ? `OK    ${parent.url}: authenticated as node ${parent.node_name} in ${parent.round_trip_ms} ms` : `FAIL  ${parent.url}: ${parent.error}`);
    }
  }
  if (!result.ok) throw new CommandFailed('the child cannot authenticate against any parent (see above).');
}

/** A child without a parent URL, key or secret is a configuration error (exit 2), like `cascade child` treats it. */
function assertChildSettings(config: Readonly<Config>): void {
  const missing = [
    parentUrls(config).length === 0 ? 'cascade.parent_api_url: missing; set it or CASCADE_PARENT_API_URL to the parent address' : undefined,
    config.cascade.api_key ? undefined : 'cascade.api_key: missing; set it or CASCADE_API_KEY (from `cascade node add`)',
    config.cascade.api_secret ? undefined : 'cascade.api_secret: missing; set it or CASCADE_API_SECRET (from `cascade node add`)',
  ].filter((problem): problem is string => problem !== undefined);
  if (missing.length > 0) throw new ConfigError(missing, 'child settings');
}

/** Whether the store answers and is migrated; a missing SQLite file is reported, never created. */
async function probeStore(config: Readonly<Config>): Promise<StoreState> {
  const missing = sqliteFileMissing(config);
  if (missing) return { reachable: true, pending_migrations: null, error: `${missing} does not exist yet` };
  try {
    const store = await openStore(config);
    try {
      const pending = (await migrationState(store.db, store.caps)).filter((m) => m.executedAt === undefined).map((m) => m.name);
      return { reachable: true, pending_migrations: pending };
    } finally {
      await store.close();
    }
  } catch (error) {
    return { reachable: false, pending_migrations: null, error: (error as Error).message };
  }
}

function describeStore(state: StoreState): string {
  if (!state.reachable) return `NOT reachable: ${state.error ?? ''}`;
  if (state.pending_migrations === null) return `not created yet (${state.error ?? ''}); run \`cascade init\``;
  if (state.pending_migrations.length > 0) return `reachable; ${state.pending_migrations.length} migration(s) pending; run \`cascade init\``;
  return 'reachable, schema up to date';
}
