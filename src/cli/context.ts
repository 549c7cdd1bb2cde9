import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CascadeError } from '../errors/cascade-error.js';
import { parseDatabaseUrl, sqliteFileOf } from '../store/dialects/database-url.js';
import type { StoreLogger } from '../store/dialects/connect.js';
import { openStore, type Store } from '../store/store.js';
import { CommandFailed } from './errors.js';
import { printError } from './output.js';

/** Options every command accepts. */
export type CommonOptions = { config?: string | undefined; json?: boolean | undefined };

/** Adds `--config PATH` (every command) and, when the command prints data, `--json`. */
export function withCommonOptions(command: Command, { json }: { json: boolean }): Command {
  command.option('-c, --config <path>', 'config file (default: $CASCADE_CONFIG, else ./config.yaml when present)');
  if (json) command.option('--json', 'print JSON instead of a table');
  return command;
}

/**
 * Loads and validates the configuration once per command. A bad key, a bad value or a database URL that cannot be
 * parsed is a ConfigError, which the CLI turns into exit code 2.
 */
export function loadCliConfig(options: CommonOptions, overrides: Record<string, unknown> = {}): Readonly<Config> {
  const config = loadConfig({ configPath: options.config, overrides });
  try {
    parseDatabaseUrl(config.database.url);
  } catch (error) {
    if (error instanceof CascadeError) throw new ConfigError([error.message], 'database.url');
    throw error;
  }
  return config;
}

/** True when the store is a SQLite file that does not exist yet (opening it would create it). */
export function sqliteFileMissing(config: Readonly<Config>): string | undefined {
  const file = sqliteFileOf(parseDatabaseUrl(config.database.url));
  if (file !== null && !existsSync(file)) return file;
  return undefined;
}

/** What the store reports while a command runs (a store file narrowed to 0600) goes to stderr as a warning. */
export const cliStoreLogger: StoreLogger = { warn: (_details, message) => printError(`warning: ${message}`) };

/**
 * Opens the store, runs `work`, and always closes it. Commands other than `init` refuse to run against a store
 * that `cascade init` has not created or migrated, rather than creating tables as a side effect.
 */
export async function withStore<T>(
  config: Readonly<Config>,
  work: (store: Store) => Promise<T>,
  { migrate = false } = {},
): Promise<T> {
  const missingFile = migrate ? undefined : sqliteFileMissing(config);
  if (missingFile) throw new CommandFailed(`No store at ${missingFile}; run \`cascade init\` first.`);
  const store = await openStore(config, cliStoreLogger);
  try {
    if (!migrate) await assertMigrated(store);
    return await work(store);
  } finally {
    await store.close();
  }
}

async function assertMigrated(store: Store): Promise<void> {
  const pending = await store.pendingMigrations();
  if (pending.length > 0) {
    throw new CommandFailed(
      `The store needs ${pending.length} migration(s) (${pending.join(', ')}); run \`cascade init\` first.`,
    );
  }
}

/** A commander argument parser for an integer flag within bounds (a bad value is a usage error, exit 2). */
export function integerOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    const parsed = Number(value.trim());
    if (parsed < min || parsed > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return parsed;
  };
}
