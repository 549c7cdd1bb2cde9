import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { sqliteCapabilities } from '../store/dialects/capabilities.js';
import { parseDatabaseUrl, redactUrl, sqliteFileOf } from '../store/dialects/database-url.js';
import { knownMigrationNames, migrateToLatest, migrationState } from '../store/migrate.js';
import { openStore } from '../store/store.js';
import { printJson, printLine } from './output.js';

type MigrateOptions = { config?: string | undefined; json?: boolean | undefined; dryRun?: boolean | undefined };

export type MigrateReport = { database: string; dry_run: boolean; pending: string[]; applied: string[] };

/** `cascade migrate [--dry-run]`: list pending migrations, and apply them unless it is a dry run. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending store migrations (safe to run from several parents at once; a lock serialises them).')
    .option('-c, --config <path>', 'config file (default: $CASCADE_CONFIG, else ./config.yaml when present)')
    .option('--dry-run', 'only list the pending migrations; change nothing')
    .option('--json', 'print JSON instead of text')
    .action(async (options: MigrateOptions) => {
      const config = loadConfig({ configPath: options.config });
      const report = await migrate(config, options.dryRun === true);
      if (options.json) {
        printJson(report);
        return;
      }
      printLine(formatMigrateReport(report).replace(/\n$/, ''));
    });
}

export async function migrate(config: Readonly<Config>, dryRun: boolean): Promise<MigrateReport> {
  const database = redactUrl(config.database.url);
  const file = sqliteFileOf(parseDatabaseUrl(config.database.url));
  // A dry run must not create the SQLite file as a side effect: a missing file has every migration pending.
  if (dryRun && file !== null && !existsSync(file)) {
    return { database, dry_run: true, pending: knownMigrationNames(sqliteCapabilities('')), applied: [] };
  }
  const store = await openStore(config);
  try {
    const pending = (await migrationState(store.db, store.caps)).filter((m) => m.executedAt === undefined).map((m) => m.name);
    if (dryRun) return { database, dry_run: true, pending, applied: [] };
    const applied = await migrateToLatest(store.db, store.caps);
    return { database, dry_run: false, pending, applied };
  } finally {
    await store.close();
  }
}

function formatMigrateReport(report: MigrateReport): string {
  if (report.dry_run) {
    if (report.pending.length === 0) return `${report.database}: up to date, nothing to apply\n`;
    return `${report.database}: ${report.pending.length} pending migration(s)\n${report.pending.map((name) => `  ${name}\n`).join('')}`;
  }
  if (report.applied.length === 0) return `${report.database}: up to date, nothing applied\n`;
  return `${report.database}: applied ${report.applied.length} migration(s)\n${report.applied.map((name) => `  ${name}\n`).join('')}`;
}
