import { CommandFailed } from '../cli/errors.js';
import { startFixtureServer } from './fixture-server.js';

/** Where `cascade demo --feeds-only` listens unless told otherwise; the README's blocks use it. */
export const SAMPLE_FEEDS_PORT = 8100;

export type FeedsOnlyOptions = { port: number; out?: NodeJS.WritableStream };

/**
 * Serves the demo's sample feeds and an OPML list of them on 127.0.0.1 until SIGINT or SIGTERM, so a parent and
 * children run by hand have feeds to fetch without the internet. Returns the exit code.
 */
export async function serveSampleFeeds(options: FeedsOnlyOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const say = (line: string): void => void out.write(`${line}\n`);
  const server = await startFixtureServer({ port: options.port }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CommandFailed(
        `port ${options.port} on 127.0.0.1 is in use (another \`cascade demo --feeds-only\`?); pick another with --port N.`,
      );
    throw error;
  });
  try {
    const broken = server.feeds.filter((f) => f.broken).length;
    say(`Serving ${server.feeds.length} sample feeds on ${server.url} (${broken} deliberately broken):`);
    for (const feed of server.feeds) say(`  ${feed.url}${feed.broken ? '   (broken)' : ''}`);
    say(`OPML list of them: ${server.url}/feeds.opml`);
    say('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return 0;
  } finally {
    await server.close();
  }
}
