import { join } from 'node:path';
import type { AdminApi } from './admin-api.js';
import { spawnChild, type ChildHandle } from './child-process.js';
import { startLocalCascade, type LocalCascade } from './local-cascade.js';
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
  const children: ChildHandle[] = [];
  let local: LocalCascade | undefined;
  // Backstop: whatever happens, no child outlives the demo.
  const killChildren = (): void => children.forEach((c) => c.running && c.process.kill('SIGKILL'));
  process.once('exit', killChildren);

  try {
    // Quick retries so the broken sample feeds reach their final state in seconds, not minutes.
    local = await startLocalCascade({ overrides: { 'dispatch.retry_backoff_seconds': 1 } });
    const { feedServer, parent, api } = local;
    say(`sample feeds   ${feedServer.feeds.length} feeds at ${feedServer.url}/feeds/ (${feedServer.feeds.filter((f) => f.broken).length} deliberately broken)`);
    say(`parent         ${parent.url} (SQLite and logs in ${local.dir})`);
    const task = await local.createTask('Demo: every sample feed', await local.addSampleFeeds());

    for (const node of DEMO_NODES) {
      const created = await local.addNode(node.name, node.capacity);
      const child = spawnChild({
        name: node.name,
        parentUrls: [parent.url],
        apiKey: created.api_key,
        apiSecret: created.api_secret,
        dir: join(local.dir, node.name),
        maxConcurrency: node.capacity,
        cascade: { heartbeat_interval: 5, claim_wait_seconds: 10, shutdown_grace_seconds: 5 },
      });
      children.push(child);
      say(`child          ${node.name}, capacity ${node.capacity}, pid ${child.process.pid}`);
    }
    await waitForOnline(api, DEMO_NODES.length, children);

    const started = Date.now();
    const dispatch = await local.dispatch(task.id);
    say(`dispatched     ${dispatch.allocations_created} allocations (run ${dispatch.schedule_run_id})`);
    const rows = await followProgress(api, dispatch.schedule_run_id, started + options.timeoutSeconds * 1000, out);
    const counts = countStatuses(rows);
    say('');
    say(formatSummaryTable(summarizeByNode(rows)));
    for (const row of rows.filter((r) => r.status !== 'completed')) say(`  ${row.status}: ${row.error_message ?? '(no message)'}`);
    say('');
    say(`elapsed        ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const allFinal = counts.total > 0 && counts.final === counts.total;
    if (!allFinal) say(`timed out      ${counts.total - counts.final} allocation(s) not final after ${options.timeoutSeconds} s`);
    say(`console        ${parent.url}/`);
    say(`admin login    username ${local.admin.username}, password ${local.admin.password}`);
    say(`API docs       ${parent.url}/api/docs`);
    if (options.exitAfterSummary) return allFinal ? 0 : 1;

    say('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return 0;
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}${local ? ` (logs in ${local.dir})` : ''}`);
    return 1;
  } finally {
    await Promise.all(children.map((c) => c.stop(10_000)));
    await local?.close();
    process.off('exit', killChildren);
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
