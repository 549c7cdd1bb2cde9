import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { startFixtureServer, type FixtureServer } from '../../src/demo/fixture-server.js';
import { DEFAULT_FETCH_LIMITS } from '../../src/executors/http-fetch.js';
import { loadExecutor } from '../../src/executors/load.js';
import { REPO_ROOT } from '../helpers/cli.js';

let server: FixtureServer;
const dir = mkdtempSync(join(tmpdir(), 'cascade-executor-load-'));
beforeAll(async () => {
  server = await startFixtureServer();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
const run = promisify(execFile);
const context = { logger: pino({ level: 'silent' }), signal: new AbortController().signal, fetch };

describe('loadExecutor', () => {
  it('"feed" is the built-in feed executor', async () => {
    const executor = await loadExecutor('feed', DEFAULT_FETCH_LIMITS);
    const articles = await executor(
      { id: 'F', url: `${server.url}/feeds/rss2-podcast.xml` },
      { allocation_id: 'a', task_id: 't', task_name: 'n', feeds: [] },
      context,
    );
    expect(articles).toHaveLength(4);
  });

  it('loads the example executor by path, relative to the working directory', async () => {
    const executor = await loadExecutor('./examples/executors/example-executor.ts', DEFAULT_FETCH_LIMITS, REPO_ROOT);
    const task = { allocation_id: 'a', task_id: 't', task_name: 'n', feeds: [], message_template: 'interview' };
    const articles = await executor({ id: 'F', url: `${server.url}/feeds/rss2-tech-news.xml` }, task, context);
    expect(articles.length).toBeGreaterThan(0);
    expect(articles.length).toBeLessThan(6);
    for (const article of articles) expect(article.title).toContain('interview');
  });

  it('loads a TypeScript executor in plain Node (the built CLI, no tsx loader) through tsx', async () => {
    const path = join(dir, 'typed-executor.ts');
    writeFileSync(
      path,
      [
        "import type { Executor } from 'cascade-types-only';",
        'interface Shout { text: string }',
        'const shout = (s: Shout): string => s.text.toUpperCase();',
        'const executor = async (feed: { id: string }) => [{ id: `${feed.id}-1`, mp_id: feed.id, title: shout({ text: "typed" }) }];',
        'export default executor as unknown as Executor;',
      ].join('\n'),
    );
    const script = `const { loadExecutor } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/executors/load.js')).href)});
      const executor = await loadExecutor(${JSON.stringify(path)}, { timeoutMs: 1000, maxBytes: 1000, maxRedirects: 0 });
      process.stdout.write(JSON.stringify(await executor({ id: 'F', url: 'http://unused' })));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    expect(JSON.parse(stdout)).toEqual([{ id: 'F-1', mp_id: 'F', title: 'TYPED' }]);
  });

  it('rejects a module without an executor function, and a missing module, as configuration errors', async () => {
    const path = join(dir, 'not-an-executor.mjs');
    writeFileSync(path, 'export const answer = 42;\n');
    await expect(loadExecutor(path, DEFAULT_FETCH_LIMITS)).rejects.toBeInstanceOf(ConfigError);
    await expect(loadExecutor(join(dir, 'missing.mjs'), DEFAULT_FETCH_LIMITS)).rejects.toThrow(
      /cascade.executor: cannot load module/,
    );
  });
});
