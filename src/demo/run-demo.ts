import { join } from 'node:path';
import type { AdminApi } from './admin-api.js';
import { spawnChild, type ChildHandle } from './child-process.js';
import { startLocalCascade, type LocalCascade } from './local-cascade.js';
import { countStatuses, formatSummaryTable, progressLine, summarizeByNode, type AllocationRow } from './progress.js';
import { escapeControl } from '../cli/output.js';
import { DEMO_WEBHOOK_TEMPLATE, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import { NodeStatus, NodeType } from '../domain/node-liveness.js';

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
  // Node names and errors in these lines come from the API: escaped as every human output of the CLI is.
  const say = (line: string): void => void out.write(`${escapeControl(line, true)}\n`);
  const children: ChildHandle[] = [];
  let local: LocalCascade | undefined;
  let receiver: WebhookReceiver | undefined;
  // Backstop: whatever happens, no child outlives the demo.
  const killChildren = (): void => children.forEach((c) => c.running && c.process.kill('SIGKILL'));
  process.once('exit', killChildren);

  try {
    // Quick retries so the broken sample feeds reach their final state in seconds, not minutes.
    // New articles are batched for 2 s, so the run's articles arrive at the webhook moments after it ends.
    local = await startLocalCascade({
      overrides: {
        'dispatch.retry_backoff_seconds': 1,
        'delivery.batch_seconds': 2,
        'delivery.max_articles': 50,
        'delivery.poll_interval_ms': 200,
      },
    });
    receiver = await startWebhookReceiver();
    const { feedServer, parent, api } = local;
    say(
      `sample feeds   ${feedServer.feeds.length} feeds at ${feedServer.url}/feeds/ (${feedServer.feeds.filter((f) => f.broken).length} deliberately broken)`,
    );
    say(`parent         ${parent.url} (SQLite and logs in ${local.dir})`);
    say(`webhook        ${receiver.url} (a local receiver standing in for yours)`);
    const task = await local.createTask('Demo: every sample feed', await local.addSampleFeeds());
    await api.call('PUT', `/api/v1/message-tasks/${task.id}`, {
      message_type: 1,
      web_hook_url: receiver.url,
      message_template: DEMO_WEBHOOK_TEMPLATE,
    });

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
    for (const row of rows.filter((r) => r.status !== 'completed'))
      say(`  ${row.status}: ${row.error_message ?? '(no message)'}`);
    say('');
    say(`elapsed        ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const allFinal = counts.total > 0 && counts.final === counts.total;
    if (!allFinal)
      say(`timed out      ${counts.total - counts.final} allocation(s) not final after ${options.timeoutSeconds} s`);
    await reportDeliveries(api, task.id, receiver, say);
    // The URLs and the login are only worth printing for a parent that keeps running.
    if (options.exitAfterSummary) return allFinal ? 0 : 1;

    const feedUrls = await api.call<{ rss: string }>('GET', `/api/v1/feed-urls?task_id=${encodeURIComponent(task.id)}`);
    say(`merged feed    ${feedUrls.rss}`);
    say(`console        ${parent.url}/`);
    say(`admin login    username ${local.admin.username}, password ${local.admin.password}`);
    say(`API docs       ${parent.url}/api/docs`);
    say('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return 0;
  } catch (error) {
    say(
      `demo failed: ${error instanceof Error ? error.message : String(error)}${local ? ` (logs in ${local.dir})` : ''}`,
    );
    return 1;
  } finally {
    await Promise.all(children.map((c) => c.stop(10_000)));
    await local?.close();
    await receiver?.close();
    process.off('exit', killChildren);
  }
}

/** Waits (bounded) until no delivery of the task is pending or sending, then says what the webhook received. */
async function reportDeliveries(
  api: AdminApi,
  taskId: string,
  receiver: WebhookReceiver,
  say: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  let open = 0;
  do {
    const deliveries = await api.listAll<{ status: string }>(
      `/api/v1/deliveries?task_id=${encodeURIComponent(taskId)}`,
    );
    open = deliveries.filter((d) => d.status === 'pending' || d.status === 'sending').length;
    if (deliveries.length > 0 && open === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < deadline);
  const articles = receiver.deliveries.reduce((n, d) => n + d.titles.length, 0);
  say(
    `webhook got    ${receiver.deliveries.length} deliveries with ${articles} new articles${open > 0 ? ` (${open} still on their way)` : ''}`,
  );
  for (const title of receiver.deliveries.flatMap((d) => d.titles).slice(0, 3)) say(`  - ${title}`);
}

async function waitForOnline(api: AdminApi, expected: number, children: ChildHandle[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => !c.running);
    if (dead) throw new Error(`child ${dead.name} exited early; see ${dead.logFile}`);
    const nodes = await api.listAll<{ status: number }>(`/api/v1/cascade/nodes?node_type=${NodeType.child}`);
    if (nodes.filter((n) => n.status === NodeStatus.online).length >= expected) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('children did not come online within 30 s');
}

async function followProgress(
  api: AdminApi,
  runId: string,
  deadlineMs: number,
  out: NodeJS.WriteStream,
): Promise<AllocationRow[]> {
  const tty = Boolean(out.isTTY);
  let lastLine = '';
  for (;;) {
    const rows = await api.listAll<AllocationRow>(
      `/api/v1/cascade/allocations?schedule_run_id=${encodeURIComponent(runId)}`,
    );
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
