import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { BlockSession } from './block-session.js';
import { extractShellBlocks, type ShellBlock } from './shell-blocks.js';

/**
 * The README's quick start and hand-run walkthrough, pasted block by block into a fresh folder (with `./bin` linked
 * to this checkout's, as `./bin/cascade` in the checkout), long-running blocks in the background, until the sample
 * feeds are fetched by two children. The one change made to the text: the ports the README names (8001 for the
 * parent, 8100 for the sample feeds) become free ones, so the test never collides with a parent already running on
 * this machine.
 */
const QUICK_START = 'Quick start';
const WALKTHROUGH = 'Run a parent and two children by hand';
const DOCUMENTED_PORTS = { parent: 8001, feeds: 8100 } as const;

const work = mkdtempSync(join(tmpdir(), 'cascade-readme-'));
const walkthroughDir = join(work, 'checkout');
const scratchDir = join(work, 'scratch');
const sessions: BlockSession[] = [];
afterAll(async () => {
  for (const session of sessions) await session.close();
  rmSync(work, { recursive: true, force: true });
});

describe('README blocks, as pasted', () => {
  it('quick start and walkthrough run on one machine: two children fetch every sample feed, the broken ones fail', async () => {
    assertDistIsCurrent();
    const ports = { parent: await freePort(), feeds: await freePort() };
    const blocks = withPorts(extractShellBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), [QUICK_START, WALKTHROUGH]), ports);
    expect(blocks.filter((b) => b.section === WALKTHROUGH && b.mode === 'background').length, 'feed server, parent and two children').toBe(4);

    mkdirSync(walkthroughDir);
    mkdirSync(scratchDir);
    symlinkSync(join(REPO_ROOT, 'bin'), join(walkthroughDir, 'bin'));
    // Only what a fresh terminal has: no DATABASE_URL or CASCADE_* of the developer's, and a home of its own.
    const env = { PATH: process.env.PATH ?? '', HOME: join(work, 'home'), LANG: 'C.UTF-8', TERM: 'dumb' };
    mkdirSync(env.HOME);
    const session = new BlockSession({ cwd: walkthroughDir, repositoryDir: REPO_ROOT, scratchDir, env, blockTimeoutMs: 180_000 });
    sessions.push(session);

    for (const section of [QUICK_START, WALKTHROUGH]) {
      for (const block of blocks.filter((b) => b.section === section)) {
        try {
          await session.run(block);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n\nbackground processes:\n${session.backgroundOutput()}`);
        }
      }
      if (section === WALKTHROUGH) await expectSamplesFetched(ports.parent, walkthroughDir, env);
      // Each long-running process must stop on Ctrl-C, as the README says.
      expect(await session.stopBackground(), 'processes that did not stop on SIGINT').toEqual([]);
    }
  }, 900_000);
});

/** Every sample feed became one allocation; all reached a final state on both children; articles were stored. */
async function expectSamplesFetched(parentPort: number, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const fixtures = readdirSync(join(REPO_ROOT, 'fixtures/feeds'));
  const broken = fixtures.filter((name) => name.startsWith('broken-')).length;
  const token = execFileSync('./bin/cascade', ['token'], { cwd, env, encoding: 'utf8' }).trim();
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${parentPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, path).toBe(200);
    return ((await response.json()) as { data: T }).data;
  };
  type Allocation = { status: string; node_id: string | null; error_message: string | null };
  const FINAL = new Set(['completed', 'failed', 'timeout', 'cancelled']);
  const allocations = await waitFor(
    'every allocation of the dispatch to reach a final state',
    async () => {
      const { list } = await get<{ list: Allocation[] }>('/api/v1/cascade/allocations?limit=200');
      return list.length === fixtures.length && list.every((a) => FINAL.has(a.status)) ? list : undefined;
    },
    180_000,
  );
  const count = (status: string): number => allocations.filter((a) => a.status === status).length;
  expect({ completed: count('completed'), failed: count('failed') }).toEqual({ completed: fixtures.length - broken, failed: broken });
  for (const failed of allocations.filter((a) => a.status === 'failed')) expect(failed.error_message).toMatch(/not a feed/);
  expect(new Set(allocations.map((a) => a.node_id)).size, 'work done by both children').toBe(2);
  const articles = await get<{ total: number }>('/api/v1/articles?limit=1');
  expect(articles.total).toBeGreaterThan(fixtures.length);
}

/** The README's ports, replaced by free ones (and proven to be there, so the replacement cannot go stale). */
function withPorts(blocks: ShellBlock[], ports: { parent: number; feeds: number }): ShellBlock[] {
  const text = (b: ShellBlock): string => `${b.code}\n${b.ready ?? ''}`;
  const walkthrough = blocks.filter((b) => b.section === WALKTHROUGH).map(text).join('\n');
  for (const port of Object.values(DOCUMENTED_PORTS)) expect(walkthrough, `the walkthrough names port ${port}`).toMatch(new RegExp(`\\b${port}\\b`));
  const swap = (value: string): string =>
    value.replace(new RegExp(`\\b${DOCUMENTED_PORTS.parent}\\b`, 'g'), String(ports.parent)).replace(new RegExp(`\\b${DOCUMENTED_PORTS.feeds}\\b`, 'g'), String(ports.feeds));
  return blocks.map((b) => ({ ...b, code: swap(b.code), ...(b.ready ? { ready: swap(b.ready) } : {}) }));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `./bin/cascade` runs dist/: a build older than the sources would test yesterday's code. */
function assertDistIsCurrent(): void {
  const built = join(REPO_ROOT, 'dist/cli/main.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error('dist/ is missing: run `npm run build` first (the README runs ./bin/cascade, which runs dist/).');
  }
  const newest = newestMtime(join(REPO_ROOT, 'src'));
  if (newest.mtimeMs > builtAt) throw new Error(`dist/ is older than ${newest.path}: run \`npm run build\` first (the README runs ./bin/cascade, which runs dist/).`);
}

function newestMtime(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestMtime(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}
