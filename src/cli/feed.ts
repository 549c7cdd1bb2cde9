import type { Command } from 'commander';
import { subscriptionUrls, type SubscriptionTarget } from '../feeds-out/subscription-urls.js';
import { jwtSecret } from '../parent/parent-services.js';
import { loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { CommandFailed } from './errors.js';
import { printJson, printLine } from './output.js';

type UrlOptions = CommonOptions & { task?: boolean; user: string; format: string };

/** `cascade feed url ID`: the subscription URL of a feed, of a task's merged feeds (`--task`), or of `all`. */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('Feeds served by the parent.');
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
      let target: SubscriptionTarget = { kind: 'all' };
      if (options.task) {
        await store.tasks.get(id);
        target = { kind: 'task', id };
      } else if (id !== 'all') {
        if (!(await store.feeds.find(id))) throw new CommandFailed(`Feed '${id}' does not exist.`);
        target = { kind: 'feed', id };
      }
      const user = await store.users.findByUsername(options.user);
      if (!user || Number(user.is_active) !== 1) throw new CommandFailed(`User '${options.user}' does not exist or is disabled (see \`cascade user list\`).`);
      return subscriptionUrls(config, target, user, await jwtSecret(config, store));
    });
    if (options.json) return printJson(urls);
    printLine(urls[options.format as 'rss' | 'atom' | 'json']);
  });
}
