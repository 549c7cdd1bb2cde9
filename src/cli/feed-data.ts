import { Option, type Command } from 'commander';
import { EnabledStatus } from '../domain/enabled-status.js';
import { screenFeedEntries, type FeedEntry } from '../domain/feed-entries.js';
import type { FeedImportReport } from '../store/feed-import.js';
import type { FeedAdminView } from '../store/feeds.js';
import { query, segment, withApiOptions, type ApiOptions } from './api-client.js';
import { UsageError } from './errors.js';
import { withApi } from './with-api.js';
import { formatAge, formatDue, formatSeconds, printFields, printJson, printLine, printTable } from './output.js';

type AddOptions = ApiOptions & { id?: string; name?: string };
type ListOptions = ApiOptions & { status?: 'enabled' | 'disabled'; search?: string };

/** `cascade feed add` and `cascade feed list`: feeds through the management API, on the local store or `--url`. */
export function registerFeedData(feed: Command): void {
  withApiOptions(
    feed
      .command('add <url>')
      .description(
        'Add one feed by its URL. A URL (or id) already stored is reported and left as it is, so running it twice is harmless.',
      )
      .option(
        '--id <id>',
        'the id to store it under (default: derived from the URL, e.g. blog-example-com-feed-xml-b7523a7814)',
      )
      .option('--name <name>', 'its name (default: the URL’s host and path)'),
    { json: true },
  ).action(async (url: string, options: AddOptions) => {
    const entry: FeedEntry = {
      url,
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.name === undefined ? {} : { name: options.name }),
    };
    const [verdict] = screenFeedEntries([entry]);
    if (verdict?.kind === 'invalid')
      throw new UsageError(`${verdict.field === 'url' ? '<url>' : `--${verdict.field}`}: ${verdict.reason}.`);
    const { outcome, feed: stored } = await withApi(options, async (api) => {
      const report = await api.call<FeedImportReport>('POST', '/api/v1/feeds/import', { feeds: [entry] });
      const [first] = report.entries;
      if (!first || (first.outcome !== 'created' && first.outcome !== 'present'))
        throw new UsageError(`<url>: ${first && 'reason' in first ? first.reason : 'the parent did not import it'}.`);
      return { outcome: first, feed: await api.call<FeedAdminView>('GET', `/api/v1/feeds/${segment(first.id)}`) };
    });
    if (options.json) return printJson({ ...outcome, feed: stored });
    if (outcome.outcome === 'created') printLine(`Feed created.`);
    else
      printLine(
        `Already present (same ${outcome.match}); nothing changed.${outcome.outcome === 'present' && outcome.note ? ` Note: ${outcome.note}.` : ''}`,
      );
    printFields([
      ['id', stored.id],
      ['name', stored.mp_name],
      ['url', stored.url],
      ['status', stored.status === EnabledStatus.enabled ? 'enabled' : 'disabled'],
    ]);
  });

  withApiOptions(
    feed
      .command('list')
      .description(
        'List feeds with their status, article count, last update, next due time and learned refresh interval.',
      )
      .addOption(
        new Option('--status <status>', 'only enabled or only disabled feeds').choices(['enabled', 'disabled']),
      )
      .option('--search <text>', 'only feeds whose name contains this, any case'),
    { json: true },
  ).action(async (options: ListOptions) => {
    const status = options.status === undefined ? undefined : options.status === 'enabled' ? 1 : 0;
    const list = await withApi(options, (api) =>
      api.listAll<FeedAdminView>(`/api/v1/feeds${query({ status, search: options.search })}`),
    );
    if (options.json) return printJson({ list, total: list.length });
    if (list.length === 0)
      return printLine(
        options.status || options.search
          ? 'No feeds match.'
          : 'No feeds yet; add one with `cascade feed add URL` or a list with `cascade feed import FILE`.',
      );
    const now = Date.now();
    printTable(
      ['ID', 'NAME', 'STATUS', 'ARTICLES', 'UPDATED', 'NEXT DUE', 'INTERVAL', 'URL'],
      list.map((f) => [
        f.id,
        f.mp_name,
        f.status === EnabledStatus.enabled ? 'enabled' : 'disabled',
        String(f.article_count),
        f.update_time === null ? 'never' : formatAge(new Date(f.update_time * 1000).toISOString(), now),
        formatDue(f.next_due_at, now),
        // Not learned yet: the first fetch teaches it (docs/refresh.md).
        f.refresh_interval_seconds === null ? '-' : formatSeconds(f.refresh_interval_seconds),
        f.url,
      ]),
    );
  });
}
