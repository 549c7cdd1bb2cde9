import type { Command } from 'commander';
import { subscriptionUrls } from '../feeds-out/subscription-urls.js';
import { subscriptionTarget } from '../services/subscription-target.js';
import { jwtSecret } from '../parent/parent-services.js';
import { loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { CommandFailed } from './errors.js';
import { registerFeedData } from './feed-data.js';
import { registerFeedImport } from './feed-import.js';
import { printJson, printLine } from './output.js';

type UrlOptions = CommonOptions & { task?: boolean; user: string; format: string };

/**
 * `cascade feed add|list|import` (feed-data.ts, feed-import.ts) and `cascade feed url ID`: the subscription URL of a
 * feed, of a task's merged feeds (`--task`), or of `all`.
 */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('Feeds: add, list and import them; print their subscription URLs.');
  registerFeedData(feed);
  registerFeedImport(feed);
  withCommonOptions(
    feed
      .command('url <id>')
      .description('Print the subscription URL of a feed, of a task’s merged feeds (--task), or of everything (`all`). Private feeds carry the user’s feed token.')
      .option('--task', 'the id names a message task: its feeds merged')
      .option('--user <name>', 'whose feed token goes in the URL (private feeds)', 'admin')
      .option('--format <format>', 'rss, atom or json', 'rss'),
    { json: true },
  ).action(async (id: string, options: UrlOptions) => {
    if (!['rss', 'atom', 'json'].includes(options.format)) throw new CommandFailed(`--format must be rss, atom or json, not '${options.format}'.`);
    const config = loadCliConfig(options);
    const urls = await withStore(config, async (store) => {
      // `all` names everything unless --task says the id is a task's.
      const target = await subscriptionTarget(store, options.task ? { taskId: id } : id === 'all' ? {} : { feedId: id });
      const user = await store.users.findByUsername(options.user);
      if (!user || Number(user.is_active) !== 1) throw new CommandFailed(`User '${options.user}' does not exist or is disabled (see \`cascade user list\`).`);
      return subscriptionUrls(config, target, user, await jwtSecret(config, store));
    });
    if (options.json) return printJson(urls);
    printLine(urls[options.format as 'rss' | 'atom' | 'json']);
  });
}
