import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parentUrls } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { parseDatabaseUrl, redactUrl, sqliteFileOf } from '../store/dialects/database-url.js';
import { inspectPrivatePaths, sqliteFiles } from '../store/file-modes.js';
import { openStore } from '../store/store.js';
import { checkChild } from '../child/check.js';
import { cliStoreLogger, loadCliConfig, sqliteFileMissing, withCommonOptions, type CommonOptions } from './context.js';
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
    const roleSource = parentRoleSource(options);
    // Modes first: opening the store narrows a file others can read, and check must report what it found.
    const fileModes = parentFileModes(config, options);
    const store = await probeStore(config);
    const summary = {
      config_valid: true,
      role: 'parent',
      role_source: roleSource,
      enabled: config.cascade.enabled,
      database: redactUrl(config.database.url),
      listen: `${config.host}:${config.port}`,
      jwt_key: config.secret ? 'from config (secret / SECRET_KEY)' : 'kept in the store',
      secrets_key: config.secrets.key ? 'from config (secrets.key / CASCADE_SECRETS_KEY)' : 'kept in the store',
      store,
      file_modes: fileModes,
    };
    if (options.json) printJson(summary);
    else {
      printFields([
        ['config', 'valid'],
        ['role', roleSource === 'default' ? 'parent (cascade.node_type is not set; parent is the default)' : 'parent'],
        ['database', summary.database],
        ['listen', summary.listen],
        ['JWT key', summary.jwt_key],
        ['secrets key', summary.secrets_key],
        ['store', describeStore(store)],
      ]);
      printModeFindings(fileModes);
    }
    if (!store.reachable) throw new CommandFailed(`the store is not reachable: ${store.error ?? 'unknown error'}`);
    if (fileModes.errors.length > 0)
      throw new CommandFailed('other users can read the store, which holds the JWT signing key (see above).');
  });
}

async function checkChildConfig(config: Readonly<Config>, options: CommonOptions): Promise<void> {
  assertChildSettings(config);
  const result = await checkChild(config);
  const fileModes = childFileModes(config, options);
  if (options.json)
    printJson({ config_valid: true, role: 'child', parent_urls: parentUrls(config), ...result, file_modes: fileModes });
  else {
    printFields([
      ['config', 'valid'],
      ['role', 'child'],
      ['parent_api_url', parentUrls(config).join(', ') || '-'],
      ['api_key', config.cascade.api_key ?? '-'],
    ]);
    for (const parent of result.parents) {
      printLine(
        parent.ok
          ? `OK    ${parent.url}: authenticated as node ${parent.node_name} in ${parent.round_trip_ms} ms`
          : `FAIL  ${parent.url}: ${parent.error}`,
      );
    }
    printModeFindings(fileModes);
    for (const warning of result.warnings) printLine(`WARN  ${warning}`);
  }
  if (!result.ok) throw new CommandFailed('the child cannot authenticate against any parent (see above).');
}

/** The settings only a child reads: a file that has them but no `node_type` is a child config missing its role. */
const CHILD_ONLY = ['parent_api_url', 'api_key', 'api_secret', 'notify_key'] as const;

/**
 * Why this config is checked as a parent: `cascade.node_type: parent` in the file or $CASCADE_NODE_TYPE, or nothing
 * said (the default). A file that says nothing but holds child settings is refused (exit 2) rather than checked as
 * the parent it is not.
 */
function parentRoleSource(options: CommonOptions): 'config' | 'environment' | 'default' {
  if (process.env.CASCADE_NODE_TYPE) return 'environment';
  const path = configPathOf(options);
  const raw = path === undefined ? undefined : readRawConfig(path);
  const cascade = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).cascade : undefined;
  const section = typeof cascade === 'object' && cascade !== null ? (cascade as Record<string, unknown>) : {};
  if (section.node_type !== undefined) return 'config';
  const childKeys = CHILD_ONLY.filter((key) => section[key] !== undefined);
  if (childKeys.length > 0) {
    throw new ConfigError(
      [
        `cascade.node_type: not set, so this would be checked as a parent, but the file sets ${childKeys.map((k) => `cascade.${k}`).join(', ')}, which only a child reads. ` +
          'Add `node_type: child` under `cascade:` to check it as a child (or remove those settings for a parent).',
      ],
      path ?? 'configuration',
    );
  }
  return 'default';
}

/** A child without a parent URL, key or secret is a configuration error (exit 2), like `cascade child` treats it. */
function assertChildSettings(config: Readonly<Config>): void {
  const missing = [
    parentUrls(config).length === 0
      ? 'cascade.parent_api_url: missing; set it or CASCADE_PARENT_API_URL to the parent address'
      : undefined,
    config.cascade.api_key
      ? undefined
      : 'cascade.api_key: missing; set it or CASCADE_API_KEY (from `cascade node add`)',
    config.cascade.api_secret
      ? undefined
      : 'cascade.api_secret: missing; set it or CASCADE_API_SECRET (from `cascade node add`)',
  ].filter((problem): problem is string => problem !== undefined);
  if (missing.length > 0) throw new ConfigError(missing, 'child settings');
}

/** Whether the store answers and is migrated; a missing SQLite file is reported, never created. */
async function probeStore(config: Readonly<Config>): Promise<StoreState> {
  const missing = sqliteFileMissing(config);
  if (missing) return { reachable: true, pending_migrations: null, error: `${missing} does not exist yet` };
  try {
    const store = await openStore(config, cliStoreLogger);
    try {
      const pending = await store.pendingMigrations();
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
  if (state.pending_migrations.length > 0)
    return `reachable; ${state.pending_migrations.length} migration(s) pending; run \`cascade init\``;
  return 'reachable, schema up to date';
}

/** Mode problems: `errors` fail the check (a store file others can read), `warnings` do not. */
type FileModes = { errors: string[]; warnings: string[] };

function parentFileModes(config: Readonly<Config>, options: CommonOptions): FileModes {
  const file = sqliteFileOf(parseDatabaseUrl(config.database.url));
  const modes: FileModes = { errors: [], warnings: configFileWarnings(options) };
  if (file === null) return modes;
  modes.warnings.push(...inspectPrivatePaths([dirname(file)], 'dir').map((f) => `data directory ${f.message}`));
  modes.errors.push(...inspectPrivatePaths(sqliteFiles(file), 'file').map((f) => `store file ${f.message}`));
  return modes;
}

function childFileModes(config: Readonly<Config>, options: CommonOptions): FileModes {
  const dataDir = config.cascade.data_dir;
  return {
    errors: [],
    warnings: [
      ...configFileWarnings(options),
      ...inspectPrivatePaths([dataDir], 'dir').map((f) => `data directory ${f.message}`),
      ...inspectPrivatePaths(sqliteFiles(join(dataDir, 'child.db')), 'file').map((f) => `outbox file ${f.message}`),
    ],
  };
}

/** A config file that holds a secret (node secret, JWT key, metrics token, database password) must be private too. */
function configFileWarnings(options: CommonOptions): string[] {
  const path = configPathOf(options);
  const raw = path === undefined ? undefined : readRawConfig(path);
  if (path === undefined || raw === undefined) return [];
  const held = secretsIn(raw);
  if (held.length === 0) return [];
  return inspectPrivatePaths([path], 'file').map((f) => `config file holds ${held.join(', ')} and ${f.message}`);
}

/** The config file the command reads, as loadConfig finds it. */
function configPathOf(options: CommonOptions): string | undefined {
  return options.config ?? process.env.CASCADE_CONFIG ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
}

/** The file's YAML as written (before defaults), or undefined when it cannot be read (loadConfig has said why). */
function readRawConfig(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return parseYaml(readFileSync(path, 'utf8')) ?? undefined;
  } catch {
    return undefined;
  }
}

function secretsIn(raw: unknown): string[] {
  const get = (...keys: string[]): unknown =>
    keys.reduce<unknown>(
      (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
      raw,
    );
  const held: string[] = [];
  if (get('cascade', 'api_secret')) held.push('cascade.api_secret');
  if (get('cascade', 'notify_key')) held.push('cascade.notify_key');
  if (get('secret')) held.push('secret');
  if (get('secrets', 'key')) held.push('secrets.key');
  if (get('metrics', 'token')) held.push('metrics.token');
  const url = get('database', 'url');
  if (typeof url === 'string' && /:\/\/[^/@]*:[^/@]*@/.test(url)) held.push('a database password');
  return held;
}

function printModeFindings(modes: FileModes): void {
  for (const error of modes.errors) printLine(`FAIL  ${error}`);
  for (const warning of modes.warnings) printLine(`WARN  ${warning}`);
}
