import type { Kysely, Transaction } from 'kysely';
import { screenFeedEntries, type FeedEntry } from '../domain/feed-entries.js';
import { lookupKeys, planFeedImport, type ImportOutcome, type KnownFeed } from '../domain/feed-import-plan.js';
import { CascadeError } from '../errors/cascade-error.js';
import type { Database, FeedTable } from './tables.js';
import { chunk } from './time.js';
import { isUniqueViolation } from './dialects/unique-violation.js';

export type FeedImportOptions = {
  /** Decide every entry but store nothing. */
  dryRun?: boolean | undefined;
  /** Create the usable entries and report the invalid ones, instead of refusing the whole list. */
  skipInvalid?: boolean | undefined;
};

/** What `POST /feeds/import` answers: one outcome per entry, in the order sent, with `index` its position. */
export type FeedImportReport = {
  dry_run: boolean;
  created: number;
  present: number;
  duplicate: number;
  invalid: number;
  entries: Array<ImportOutcome & { index: number }>;
};

const COLUMNS_PER_ROW = 15;

/**
 * Imports a list of feeds in one transaction: every entry is checked and decided before anything is written, so a
 * list with an invalid entry stores nothing (400, each problem listed) unless `skipInvalid`; entries already
 * stored (same id or same URL) are left as they are, which makes a repeated import create nothing.
 */
export async function importFeeds(
  db: Kysely<Database>,
  maxParameters: number,
  entries: readonly FeedEntry[],
  options: FeedImportOptions = {},
): Promise<FeedImportReport> {
  const verdicts = screenFeedEntries(entries);
  try {
    return await db.transaction().execute(async (trx) => {
      const outcomes = planFeedImport(verdicts, await storedMatches(trx, maxParameters, lookupKeys(verdicts)));
      const report = summarise(outcomes, options.dryRun === true);
      if (report.invalid > 0 && !options.skipInvalid && !options.dryRun) throw refusal(report);
      if (!options.dryRun) await insertCreated(trx, maxParameters, outcomes);
      return report;
    });
  } catch (error) {
    // Another import (or a create) stored one of these feeds between our read and our insert: nothing of ours stands.
    if (isUniqueViolation(error))
      throw new CascadeError(
        'CONFLICT',
        'Another request created some of these feeds at the same time; nothing was imported. Repeat the import.',
        { cause: error },
      );
    throw error;
  }
}

async function storedMatches(
  trx: Transaction<Database>,
  maxParameters: number,
  keys: { ids: string[]; urls: string[] },
): Promise<KnownFeed[]> {
  const found = new Map<string, KnownFeed>();
  for (const part of chunk(keys.ids, maxParameters)) {
    for (const row of await trx.selectFrom('feeds').select(['id', 'url']).where('id', 'in', part).execute())
      found.set(row.id, row);
  }
  for (const part of chunk(keys.urls, maxParameters)) {
    for (const row of await trx.selectFrom('feeds').select(['id', 'url']).where('url', 'in', part).execute())
      found.set(row.id, row);
  }
  return [...found.values()];
}

async function insertCreated(
  trx: Transaction<Database>,
  maxParameters: number,
  outcomes: readonly ImportOutcome[],
): Promise<void> {
  const now = Date.now();
  const rows: FeedTable[] = outcomes.flatMap((o) =>
    o.outcome === 'created'
      ? [
          {
            id: o.id,
            mp_name: o.name,
            mp_cover: '',
            mp_intro: '',
            faker_id: '',
            url: o.url,
            status: 1,
            sync_time: null,
            update_time: null,
            etag: null,
            last_modified: null,
            last_node_id: null,
            next_due_at: null,
            refresh_interval_seconds: null,
            refresh_failures: 0,
            refresh_hint_seconds: null,
            article_count: 0,
            created_at: now,
            updated_at: now,
          },
        ]
      : [],
  );
  for (const part of chunk(rows, Math.max(1, Math.floor(maxParameters / COLUMNS_PER_ROW))))
    await trx.insertInto('feeds').values(part).execute();
}

function summarise(outcomes: readonly ImportOutcome[], dryRun: boolean): FeedImportReport {
  const count = (kind: ImportOutcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  return {
    dry_run: dryRun,
    created: count('created'),
    present: count('present'),
    duplicate: count('duplicate'),
    invalid: count('invalid'),
    entries: outcomes.map((outcome, index) => ({ index, ...outcome })),
  };
}

function refusal(report: FeedImportReport): CascadeError {
  const details = report.entries.flatMap((e) =>
    e.outcome === 'invalid' ? [{ path: `feeds.${e.index}.${e.field}`, message: e.reason }] : [],
  );
  const first = details
    .slice(0, 3)
    .map((d) => `${d.path}: ${d.message}`)
    .join('; ');
  const more = details.length > 3 ? `; and ${details.length - 3} more in details` : '';
  return new CascadeError(
    'VALIDATION_FAILED',
    `${details.length} of ${report.entries.length} entries are invalid, so nothing was imported (${first}${more}). Fix them, or send skip_invalid: true to import the rest.`,
    { details },
  );
}
