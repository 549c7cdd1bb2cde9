import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/run.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cascade-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('runs the dispatch scenario end to end and writes a report of the documented shape', async () => {
    const out = join(dir, 'report.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'dispatch', '--out', out, '--chart', 'none'],
      {
        timeout: 120_000,
      },
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;

    expect(report).toMatchObject({ version: 1, mode: 'quick', store: 'sqlite', runs_per_figure: 1 });
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.scenarios.map((s) => s.id)).toEqual(['dispatch']);
    const [dispatch] = report.scenarios;
    expect(dispatch?.status).toBe('ok');
    expect(dispatch?.parameters).toMatchObject({ feeds: [1000, 10000], nodes: 50 });
    expect(dispatch?.figures.map((f) => f.key)).toEqual([
      'dispatch_s_1k',
      'insert_floor_s_1k',
      'dispatch_ratio_1k',
      'dispatch_s_10k',
      'insert_floor_s_10k',
      'dispatch_ratio_10k',
    ]);
    for (const figure of dispatch?.figures ?? []) {
      expect(figure.runs).toHaveLength(1);
      expect(figure.value).toBe(figure.runs[0]);
      expect(Number.isFinite(figure.value) && (figure.value as number) > 0).toBe(true);
    }
    const ratio = dispatch?.figures.find((f) => f.key === 'dispatch_ratio_1k');
    expect(ratio?.target).toEqual({ op: '<=', value: 3 });
    expect(typeof ratio?.met).toBe('boolean');
    // The markdown table on stdout carries one row per figure.
    expect(dispatch?.store).toBe('sqlite');
    expect(stdout).toContain('| scenario | store | figure | median | unit | runs | target |');
    expect(stdout.split('\n').filter((line) => line.startsWith('| dispatch | sqlite |'))).toHaveLength(6);
  });

  it('skips the peer scenario with its reason on a SQLite run without a PostgreSQL URL', async () => {
    const out = join(dir, 'peer.json');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'peer', '--out', out, '--chart', 'none'],
      { timeout: 120_000, env },
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report.scenarios).toEqual([
      expect.objectContaining({
        id: 'peer',
        store: 'postgres',
        status: 'skipped',
        note: 'skipped: needs PostgreSQL; run with --store postgres or set CASCADE_BENCH_POSTGRES_URL',
        figures: [],
      }),
    ]);
    expect(stderr).toContain('[store: postgres]');
    expect(stdout).toMatch(/\| postgres \| skipped: .*needs PostgreSQL/);
  });
});
