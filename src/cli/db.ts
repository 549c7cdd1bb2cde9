import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CascadeError } from '../errors/cascade-error.js';
import { connectDatabase } from '../store/dialects/connect.js';
import { parseDatabaseUrl, redactUrl, sqliteFileOf } from '../store/dialects/database-url.js';
import { migrationState } from '../store/migrate.js';
import { printJson, printLine } from './output.js';

type DbCheckOptions = { config?: string | undefined; json?: boolean | undefined };

export type DbCheckReport = {
  database: string;
  dialect: string;
  server_version: string;
  skip_locked: boolean;
  cross_process_wake: string;
  migrations: { applied: string[]; pending: string[] };
  /** Things that work but should be fixed (for example a MySQL/MariaDB without SKIP LOCKED). */
  warnings: string[];
};

/** `cascade db …`: operations on the store itself. */
export function registerDb(program: Command): void {
  const db = program.command('db').description('Inspect the store (SQLite, PostgreSQL or MySQL/MariaDB).');
  db.command('check')
    .description('Connect to the store and report the server version and migration state; exit 1 when unreachable.')
    .option('-c, --config <path>', 'config file (default: $CASCADE_CONFIG, else ./config.yaml when present)')
    .option('--json', 'print JSON instead of text')
    .action(async (options: DbCheckOptions) => {
      const report = await checkDatabase(loadConfig({ configPath: options.config }));
      if (options.json) {
        printJson(report);
        return;
      }
      printLine(formatDbCheckReport(report).replace(/\n$/, ''));
    });
}

/** Connects, reads the version and migration state; an unreachable store is a CascadeError (exit 1). */
export async function checkDatabase(config: Readonly<Config>): Promise<DbCheckReport> {
  const database = redactUrl(config.database.url);
  const file = sqliteFileOf(parseDatabaseUrl(config.database.url));
  if (file !== null && !existsSync(file)) {
    throw new CascadeError(
      'UNAVAILABLE',
      `${database}: the SQLite file does not exist; run \`cascade init\` (or \`cascade migrate\`) first.`,
    );
  }
  let connection;
  try {
    connection = await connectDatabase({
      url: config.database.url,
      poolSize: 1,
      statementTimeoutMs: config.database.statement_timeout_ms,
    });
  } catch (error) {
    throw new CascadeError('UNAVAILABLE', `${database}: cannot connect: ${(error as Error).message}`, { cause: error });
  }
  const { db, caps } = connection;
  try {
    const migrations = await migrationState(db, caps);
    const warnings: string[] = [];
    if (caps.rowLocks && !caps.skipLocked) {
      warnings.push(
        'this server has no SKIP LOCKED (needs MySQL 8 or MariaDB 10.6+); claims fall back to compare-and-set and contend more under load',
      );
    }
    return {
      database,
      dialect: caps.dialect,
      server_version: caps.serverVersion,
      skip_locked: caps.skipLocked,
      cross_process_wake: caps.crossProcessWake,
      migrations: {
        applied: migrations.filter((m) => m.executedAt !== undefined).map((m) => m.name),
        pending: migrations.filter((m) => m.executedAt === undefined).map((m) => m.name),
      },
      warnings,
    };
  } finally {
    await db.destroy();
  }
}

function formatDbCheckReport(report: DbCheckReport): string {
  const { applied, pending } = report.migrations;
  const state =
    pending.length === 0
      ? `up to date (${applied.length} applied)`
      : `${pending.length} pending: ${pending.join(', ')} (run \`cascade migrate\`)`;
  const lines = [
    `database:        ${report.database}`,
    `dialect:         ${report.dialect}`,
    `server version:  ${report.server_version}`,
    `skip locked:     ${report.skip_locked ? 'yes' : 'no'}`,
    `wake-up across parents: ${report.cross_process_wake === 'listen-notify' ? 'LISTEN/NOTIFY' : 'store poll'}`,
    `migrations:      ${state}`,
    ...report.warnings.map((w) => `warning:         ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}
