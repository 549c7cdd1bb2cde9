import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockSession } from './block-session.js';
import { extractShellBlocks } from './shell-blocks.js';

const FENCE = '```';
const markdown = [
  '# Title',
  '## Other',
  `${FENCE}bash`,
  'echo not in a chosen section',
  FENCE,
  '## Chosen',
  `${FENCE}bash`,
  'GREETING=hello',
  FENCE,
  `${FENCE}yaml`,
  'not: shell',
  FENCE,
  '<!-- readme-test: skip (needs the internet) -->',
  `${FENCE}bash`,
  'curl https://example.com',
  FENCE,
  '<!-- readme-test: background; ready: test -f ready -->',
  `${FENCE}sh`,
  'touch ready; sleep 600',
  FENCE,
  `${FENCE}bash`,
  'echo "$GREETING again"',
  'false',
  'echo never',
  FENCE,
].join('\n');

const work = mkdtempSync(join(tmpdir(), 'cascade-shell-blocks-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('extractShellBlocks', () => {
  it('takes the shell blocks of the chosen sections, in order, with what their comment says', () => {
    const blocks = extractShellBlocks(markdown, ['Chosen']);
    expect(blocks.map((b) => [b.line, b.mode, b.code])).toEqual([
      [7, 'foreground', 'GREETING=hello'],
      [14, 'skip', 'curl https://example.com'],
      [18, 'background', 'touch ready; sleep 600'],
      [21, 'foreground', 'echo "$GREETING again"\nfalse\necho never'],
    ]);
    expect(blocks[1]?.skipReason).toBe('needs the internet');
    expect(blocks[2]?.ready).toBe('test -f ready');
  });

  it('refuses a missing section and a directive it does not know', () => {
    expect(() => extractShellBlocks(markdown, ['Chosen', 'Gone'])).toThrow('README has no section "## Gone"');
    expect(() => extractShellBlocks(`## A\n<!-- readme-test: maybe -->\n${FENCE}bash\ntrue\n${FENCE}`, ['A'])).toThrow('unknown readme-test directive');
    expect(() => extractShellBlocks(`## A\n<!-- readme-test: background -->\n${FENCE}bash\ntrue\n${FENCE}`, ['A'])).toThrow('needs "ready:"');
  });
});

describe('BlockSession', () => {
  it('keeps shell state between blocks, starts background blocks until ready, and fails the block whose command fails', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const scratchDir = mkdtempSync(join(work, 'scratch-'));
    const session = new BlockSession({ cwd, repositoryDir: cwd, scratchDir, env: { PATH: process.env.PATH ?? '' }, blockTimeoutMs: 30_000 });
    try {
      const [assign, skipped, background, failing] = extractShellBlocks(markdown, ['Chosen']);
      await session.run(assign!);
      await session.run(skipped!);
      await session.run(background!);
      const error = await session.run(failing!).then(() => undefined, (e: unknown) => e as Error);
      expect(error?.message).toContain('README line 21');
      expect(error?.message).toContain('a command failed');
      expect(session.transcript).toContain('hello again');
      expect(session.transcript).not.toContain('never');
    } finally {
      // `sleep 600` ignores nothing: SIGINT stops it, so nothing needed SIGKILL.
      expect(await session.close()).toEqual([]);
    }
  });

  it('fails a background block that exits before it is ready', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const session = new BlockSession({ cwd, repositoryDir: cwd, scratchDir: mkdtempSync(join(work, 'scratch-')), env: { PATH: process.env.PATH ?? '' }, blockTimeoutMs: 30_000 });
    try {
      const [block] = extractShellBlocks(`## A\n<!-- readme-test: background; ready-output: listening -->\n${FENCE}bash\necho oops; exit 3\n${FENCE}`, ['A']);
      await expect(session.run(block!)).rejects.toThrow(/exited \(3\) before it was ready; its output:\noops/);
    } finally {
      await session.close();
    }
  });
});
