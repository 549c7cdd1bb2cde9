import { Option, type Command } from 'commander';
import type { SubscriptionUrls } from '../feeds-out/subscription-urls.js';
import { query, withApiOptions, type ApiOptions } from './api-client.js';
import { registerFeedData } from './feed-data.js';
import { registerFeedImport } from './feed-import.js';
import { printJson, printLine } from './output.js';
import { withApi } from './with-api.js';

type UrlOptions = ApiOptions & { task?: boolean; user?: string; format: 'rss' | 'atom' | 'json' };

/**
 * `cascade feed add|list|import` (feed-data.ts, feed-import.ts) and `cascade feed url ID`: the subscription URL of a
 * feed, of a task's merged feeds (`--task`), or of `all`, from `GET /api/v1/feed-urls` on the local store or `--url`.
 */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('Feeds: add, list and import them; print their subscription URLs.');
  registerFeedData(feed);
  registerFeedImport(feed);
  withApiOptions(
    feed
      .command('url <id>')
      .description(
        'Print the subscription URL of a feed, of a task’s merged feeds (--task), or of everything (`all`). Private feeds carry the user’s feed token.',
      )
      .option('--task', 'the id names a message task: its feeds merged')
      .option(
        '--user <name>',
        'whose feed token goes in the URL (private feeds; default: you, i.e. the user of --url’s login, or the local store’s first admin; another user’s needs the admin role)',
      )
      .addOption(new Option('--format <format>', 'rss, atom or json').choices(['rss', 'atom', 'json']).default('rss')),
    { json: true },
  ).action(async (id: string, options: UrlOptions) => {
    const target = options.task ? { task_id: id } : id === 'all' ? {} : { feed_id: id };
    const urls = await withApi(options, (api) =>
      api.call<SubscriptionUrls>('GET', `/api/v1/feed-urls${query({ ...target, user: options.user })}`),
    );
    if (options.json) return printJson(urls);
    printLine(urls[options.format]);
  });
}
