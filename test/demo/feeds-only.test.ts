import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleFeedsOpml } from '../../src/demo/opml.js';
import { CLI_ENTRY, REPO_ROOT, runCli, TSX_NODE_ARGS } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const cwd = mkdtempSync(join(tmpdir(), 'cascade-feeds-only-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const fixtureNames = readdirSync(join(REPO_ROOT, 'fixtures/feeds')).sort();

describe('cascade demo --feeds-only', () => {
  it('serves every sample feed and an OPML list of them until SIGTERM, then exits 0', async () => {
    const server = spawn(process.execPath, [...TSX_NODE_ARGS, CLI_ENTRY, 'demo', '--feeds-only', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    let stdout = '';
    server.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitFor(
        'the feed server to say it is ready',
        () => (stdout.includes('Press Ctrl-C') ? true : undefined),
        60_000,
      );
      const base = /^Serving \d+ sample feeds on (http:\/\/127\.0\.0\.1:\d+) /m.exec(stdout)?.[1];
      expect(base).toBeDefined();
      const opmlUrl = /^OPML list of them: (\S+)$/m.exec(stdout)?.[1];
      expect(opmlUrl).toBe(`${base}/feeds.opml`);

      const opml = await fetch(opmlUrl!);
      expect(opml.status).toBe(200);
      expect(opml.headers.get('content-type')).toContain('opml');
      const xmlUrls = [...(await opml.text()).matchAll(/xmlUrl="([^"]+)"/g)].map((m) => m[1]);
      expect(xmlUrls).toEqual(fixtureNames.map((name) => `${base}/feeds/${name}`));
      // Every URL printed is in the list, and the list's feeds answer.
      for (const url of xmlUrls) expect(stdout).toContain(`  ${url}`);
      const feed = await fetch(`${base}/feeds/rss2-tech-news.xml`);
      expect(feed.status).toBe(200);
      expect(await feed.text()).toContain('<rss');
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);

  it('says which port is taken and exits 1 when it cannot listen', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = await runCli(['demo', '--feeds-only', '--port', String(port)], { cwd });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }
  }, 60_000);

  it('refuses --port without --feeds-only, and --exit with it (exit 2)', async () => {
    expect((await runCli(['demo', '--port', '8100'], { cwd })).code).toBe(2);
    expect((await runCli(['demo', '--feeds-only', '--exit'], { cwd })).code).toBe(2);
  }, 60_000);
});

describe('sampleFeedsOpml', () => {
  it('escapes titles and URLs and marks the broken feeds', () => {
    const opml = sampleFeedsOpml([
      { name: 'a&b "c".xml', url: 'http://h/feeds/a?x=1&y=2', broken: false },
      { name: 'broken-x.html', url: 'http://h/feeds/broken-x.html', broken: true },
    ]);
    expect(opml).toContain('text="a&amp;b &quot;c&quot;.xml"');
    expect(opml).toContain('xmlUrl="http://h/feeds/a?x=1&amp;y=2"');
    expect(opml).toContain('text="broken-x.html (deliberately broken)"');
    expect(opml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<opml version="2.0">/);
  });
});
