import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, randomToken } from '../auth/secrets.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { startParent, type Parent } from '../parent/parent.js';
import { AdminApi } from './admin-api.js';
import { spawnChild, type ChildHandle } from './child-process.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';
import { countStatuses, formatSummaryTable, progressLine, summarizeByNode, type AllocationRow } from './progress.js';

export type DemoOptions = {
  /** Stop after the summary instead of waiting for Ctrl-C. */
  exitAfterSummary: boolean;
  timeoutSeconds: number;
  out?: NodeJS.WriteStream;
};

const DEMO_NODES = [
  { name: 'demo-child-a', capacity: 4 },
  { name: 'demo-child-b', capacity: 8 },
] as const;

/**
 * The one-command demo: sample-feed server, a parent on SQLite in a temporary folder, two real child processes;
 * one task over every sample feed is dispatched and followed to the end. Returns the exit code.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const say = (line: string): void => void out.write(`${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'cascade-demo-'));
  const children: ChildHandle[] = [];
  let feeds: FixtureServer | undefined;
  let parent: Parent | undefined;
  // Backstop: whatever happens, no child outlives the demo.
  const killChildren = (): void => children.forEach((c) => c.running && c.process.kill('SIGKILL'));
  process.once('exit', killChildren);
  const cleanup = async (): Promise<void> => {
    await Promise.all(children.map((c) => c.stop(10_000)));
    await parent?.close();
    await feeds?.close();
    process.off('exit', killChildren);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    feeds = await startFixtureServer();
    say(`sample feeds   ${feeds.feeds.length} feeds at ${feeds.url}/feeds/ (${feeds.feeds.filter((f) => f.broken).length} deliberately broken)`);
    const config = loadConfig({
      env: {},
      overrides: { host: '127.0.0.1', port: 0, log_level: 'info', 'database.url': `sqlite:${join(dir, 'cascade.db')}`, 'scheduler.enabled': false },
    });
    parent = await startParent(config, createLogger('info', createWriteStream(join(dir, 'parent.log'))));
    const password = randomToken(12);
    await parent.services.store.users.create({ username: 'admin', passwordHash: await hashPassword(password), role: 'admin' });
    const api = new AdminApi(parent.url);
    await api.login('admin', password);
    say(`parent         ${parent.url} (SQLite in ${dir})`);

    const feedIds: string[] = [];
    for (const fixture of feeds.feeds) {
      const id = `DEMO_${fixture.name.replace(/\.[a-z]+$/, '').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
      await api.call('POST', '/api/v1/feeds', { id, mp_name: fixture.name, url: fixture.url, status: 1 });
      feedIds.push(id);
    }
    const task = await api.call<{ id: string }>('POST', '/api/v1/message-tasks', { name: 'Demo: every sample feed', mps_id: feedIds.map((id) => ({ id })), status: 1 });

    for (const node of DEMO_NODES) {
      const created = await api.call<{ id: string; api_key: string; api_secret: string }>('POST', '/api/v1/cascade/nodes', {
        node_type: 1,
        name: node.name,
        sync_config: { max_capacity: node.capacity },
      });
      children.push(
        spawnChild({
          name: node.name,
          parentUrls: [parent.url],
          apiKey: created.api_key,
          apiSecret: created.api_secret,
          dir: join(dir, node.name),
          maxConcurrency: node.capacity,
          cascade: { heartbeat_interval: 5, claim_wait_seconds: 10, shutdown_grace_seconds: 5 },
        }),
      );
      say(`child          ${node.name}, capacity ${node.capacity}, pid ${children.at(-1)?.process.pid}`);
    }
    await waitForOnline(api, DEMO_NODES.length, children);

    const started = Date.now();
    const dispatch = await api.call<{ allocations_created: number; schedule_run_id: string }>('POST', `/api/v1/cascade/dispatch-task?task_id=${encodeURIComponent(task.id)}`);
    say(`dispatched     ${dispatch.allocations_created} allocations (run ${dispatch.schedule_run_id})`);
    const rows = await followProgress(api, dispatch.schedule_run_id, started + options.timeoutSeconds * 1000, out);
    const counts = countStatuses(rows);
    say('');
    say(formatSummaryTable(summarizeByNode(rows)));
    for (const row of rows.filter((r) => r.status !== 'completed' && r.error_message)) say(`  failed: ${row.error_message}`);
    say('');
    say(`elapsed        ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const allFinal = counts.total > 0 && counts.final === counts.total;
    if (!allFinal) say(`timed out      ${counts.total - counts.final} allocation(s) not final after ${options.timeoutSeconds} s`);
    if (options.exitAfterSummary) return allFinal ? 0 : 1;

    say(`admin login    username admin, password ${password}`);
    say(`API docs       ${parent.url}/api/docs`);
    say('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return 0;
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)} (logs in ${dir})`);
    return 1;
  } finally {
    await cleanup();
  }
}

async function waitForOnline(api: AdminApi, expected: number, children: ChildHandle[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => !c.running);
    if (dead) throw new Error(`child ${dead.name} exited early; see ${dead.logFile}`);
    const nodes = await api.listAll<{ status: number }>('/api/v1/cascade/nodes?node_type=1');
    if (nodes.filter((n) => n.status === 1).length >= expected) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('children did not come online within 30 s');
}

async function followProgress(api: AdminApi, runId: string, deadlineMs: number, out: NodeJS.WriteStream): Promise<AllocationRow[]> {
  const tty = Boolean(out.isTTY);
  let lastLine = '';
  for (;;) {
    const rows = await api.listAll<AllocationRow>(`/api/v1/cascade/allocations?schedule_run_id=${encodeURIComponent(runId)}`);
    const counts = countStatuses(rows);
    const line = progressLine(counts);
    if (tty) out.write(`\r${line}`);
    else if (line !== lastLine) out.write(`${line}\n`);
    lastLine = line;
    if ((counts.total > 0 && counts.final === counts.total) || Date.now() > deadlineMs) {
      if (tty) out.write('\n');
      return rows;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
