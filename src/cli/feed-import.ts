import { readFile, stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { MAX_IMPORT_ENTRIES, type FeedEntry } from '../domain/feed-entries.js';
import { FEED_LIST_FORMATS, parseFeedList, type FeedList, type FeedListFormat } from '../feeds-in/feed-list.js';
import { FeedListError } from '../feeds-in/list-item.js';
import type { FeedImportReport } from '../store/feed-import.js';
import { withApiOptions, type ApiOptions, type CliApi } from './api-client.js';
import { withApi } from './with-api.js';
import { CommandFailed } from './errors.js';
import { printError, printJson, printLine, printTable } from './output.js';

type ImportOptions = ApiOptions & { format?: FeedListFormat; dryRun?: boolean; skipInvalid?: boolean };

/** One item of the file and what became of it. `skipped`: left out on purpose (a repeat, an outline that is no feed). */
export type ImportRow = {
  at: string;
  outcome: 'created' | 'present' | 'duplicate' | 'invalid' | 'skipped';
  id?: string;
  url?: string;
  name?: string;
  match?: string;
  note?: string;
  reason?: string;
};

/** A feed list file larger than this is refused before it is read: no subscription list is anywhere near it. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

/**
 * `cascade feed import FILE|-`: every feed of an OPML, text or JSON list, through `POST /feeds/import`. Entries are
 * checked here first with the endpoint's own rules, so a bad one is reported against its line and, without
 * `--skip-invalid`, nothing is imported (exit 1). A list longer than one request holds is dry-run whole before
 * any part is stored. Importing the same file again creates nothing.
 */
export function registerFeedImport(feed: Command): void {
  withApiOptions(
    feed
      .command('import <file>')
      .description(
        'Import feeds from an OPML export, a text file (one URL per line, # comments) or JSON ([{url, id?, name?}]); `-` reads standard input. Exits 1 when an entry is invalid (and imports nothing) unless --skip-invalid.',
      )
      .addOption(
        new Option('--format <format>', 'the file’s format (default: detected from its content)').choices([
          ...FEED_LIST_FORMATS,
        ]),
      )
      .option('--dry-run', 'report what would be created and what is already present, store nothing')
      .option('--skip-invalid', 'import the valid entries and report the invalid ones (exit 0)'),
    { json: true },
  ).action(async (file: string, options: ImportOptions) => {
    const list = readList(await readSource(file), options.format);
    const invalidHere = list.invalid.length;
    const refuse = invalidHere > 0 && !options.skipInvalid;
    const batches = refuse && !options.dryRun ? [] : await withApi(options, (api) => sendList(api, list, options));
    const rows = mergeRows(list, batches);
    const count = (outcome: ImportRow['outcome']) => rows.filter((r) => r.outcome === outcome).length;
    const summary = {
      file: file === '-' ? 'standard input' : file,
      format: list.format,
      dry_run: options.dryRun === true,
      created: count('created'),
      present: count('present'),
      invalid: count('invalid'),
      skipped: count('skipped') + count('duplicate'),
    };
    if (options.json)
      printJson({
        ...summary,
        imported: !options.dryRun && !(summary.invalid > 0 && !options.skipInvalid),
        entries: rows,
      });
    else printReport(rows, summary);
    if (summary.invalid > 0 && !options.skipInvalid) {
      const what = options.dryRun ? 'the import would be refused' : 'nothing was imported';
      throw new CommandFailed(
        `${summary.invalid} invalid ${summary.invalid === 1 ? 'entry' : 'entries'}, so ${what}. Fix ${summary.invalid === 1 ? 'it' : 'them'}, or pass --skip-invalid to import the rest.`,
      );
    }
  });
}

async function readSource(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_FILE_BYTES)
        throw new CommandFailed(
          `Standard input holds more than ${MAX_FILE_BYTES / 1024 / 1024} MiB; that is no feed list.`,
        );
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES)
      throw new CommandFailed(`${file} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; that is no feed list.`);
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof CommandFailed) throw error;
    throw new CommandFailed(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
    );
  }
}

function readList(content: string, format: FeedListFormat | undefined): FeedList {
  try {
    return parseFeedList(content, format);
  } catch (error) {
    if (error instanceof FeedListError) throw new CommandFailed(error.message);
    throw error;
  }
}

/** Sends the list in parts; when there are several, all are dry-run first so a refusal comes before any part is stored. */
async function sendList(
  api: CliApi,
  list: FeedList,
  options: ImportOptions,
): Promise<Array<{ entries: FeedList['entries']; report: FeedImportReport }>> {
  const parts: Array<FeedList['entries']> = [];
  for (let i = 0; i < list.entries.length; i += MAX_IMPORT_ENTRIES)
    parts.push(list.entries.slice(i, i + MAX_IMPORT_ENTRIES));
  const send = (entries: FeedList['entries'], dryRun: boolean) =>
    api.call<FeedImportReport>('POST', '/api/v1/feeds/import', {
      feeds: entries.map((e): FeedEntry => e.entry),
      dry_run: dryRun,
      skip_invalid: options.skipInvalid === true,
    });
  if (parts.length > 1 && !options.dryRun && !options.skipInvalid) {
    for (const entries of parts) {
      const refused = (await send(entries, true)).entries.flatMap((e) =>
        e.outcome === 'invalid' ? [`${entries[e.index]?.at ?? e.index}: ${e.reason}`] : [],
      );
      if (refused.length > 0)
        throw new CommandFailed(
          `The parent refuses ${refused.length} entries, so nothing was imported: ${refused.slice(0, 5).join('; ')}.`,
        );
    }
  }
  const answered = [];
  for (const entries of parts) answered.push({ entries, report: await send(entries, options.dryRun === true) });
  return answered;
}

/** The file's items in file order: the parent's answer for each entry sent, and what was decided here for the rest. */
function mergeRows(
  list: FeedList,
  batches: ReadonlyArray<{ entries: FeedList['entries']; report: FeedImportReport }>,
): ImportRow[] {
  const rows: ImportRow[] = [];
  for (const { entries, report } of batches) {
    for (const outcome of report.entries) {
      const at = entries[outcome.index]?.at ?? `entry ${outcome.index + 1}`;
      const { index: _index, of: _of, ...rest } = outcome as typeof outcome & { of?: number };
      rows.push({ at, ...rest });
    }
  }
  rows.push(...list.invalid.map((i) => ({ at: i.at, outcome: 'invalid' as const, reason: i.reason })));
  rows.push(...list.skipped.map((s) => ({ at: s.at, outcome: 'skipped' as const, reason: s.reason })));
  return rows.sort((a, b) => position(a.at) - position(b.at));
}

/** `line 12 (…)`, `item 3`: the number, to keep the report in file order; outlines without a line keep their order. */
function position(at: string): number {
  const match = /^(?:line|item) (\d+)/.exec(at);
  return match ? Number(match[1]) : 0;
}

type Summary = {
  file: string;
  format: string;
  dry_run: boolean;
  created: number;
  present: number;
  invalid: number;
  skipped: number;
};

function printReport(rows: readonly ImportRow[], summary: Summary): void {
  const stored = rows.filter((r) => r.outcome === 'created' || r.outcome === 'present');
  if (stored.length > 0) {
    const label = (r: ImportRow) =>
      r.outcome === 'created' ? (summary.dry_run ? 'would create' : 'created') : 'present';
    printTable(
      ['WHERE', 'OUTCOME', 'ID', 'URL'],
      stored.map((r) => [r.at, label(r), r.id ?? '', r.url ?? '']),
    );
  }
  for (const r of rows) {
    if (r.outcome === 'invalid') printError(`${r.at}: invalid: ${r.reason ?? ''}`);
    else if (r.outcome === 'skipped' || r.outcome === 'duplicate') printError(`${r.at}: skipped: ${r.reason ?? ''}`);
    else if (r.note) printError(`${r.at}: note: ${r.note}`);
  }
  const head = summary.dry_run
    ? `Dry run of ${summary.file} (${summary.format}), nothing stored: ${summary.created} would be created`
    : `${summary.file} (${summary.format}): ${summary.created} created`;
  printLine(`${head}, ${summary.present} already present, ${summary.invalid} invalid, ${summary.skipped} skipped.`);
}
