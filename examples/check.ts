/**
 * Check mode (查看分配情况): after a dispatch and a child run, show the allocations by status and node, and prove
 * the child's credentials against the parent (what `cascade check` does on a child).
 * Run: `node --import tsx examples/check.ts`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildAgent } from '../src/child/agent.js';
import { checkChild } from '../src/child/check.js';
import { resolveChildSettings } from '../src/child/child-settings.js';
import { loadConfig } from '../src/config/load.js';
import { startLocalCascade } from '../src/demo/local-cascade.js';
import { feedExecutor } from '../src/executors/feed.js';
import { createLogger } from '../src/logger.js';

const local = await startLocalCascade({ logLevel: 'warn' });
const dataDir = mkdtempSync(join(tmpdir(), 'cascade-example-check-'));
try {
  const node = await local.addNode('example-child', 8);
  const config = loadConfig({
    env: {
      CASCADE_NODE_TYPE: 'child',
      CASCADE_PARENT_API_URL: local.parent.url,
      CASCADE_API_KEY: node.api_key,
      CASCADE_API_SECRET: node.api_secret,
      CASCADE_NETWORK_ALLOW_CIDRS: '127.0.0.1',
      CASCADE_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
  });
  console.log('cascade check (child):', JSON.stringify(await checkChild(config)));

  const task = await local.createTask('Example: sample feeds', await local.addSampleFeeds());
  const { schedule_run_id: runId } = await local.dispatch(task.id);
  await new ChildAgent({
    settings: resolveChildSettings(config),
    executor: feedExecutor,
    logger: createLogger('warn'),
    once: true,
  }).run();

  const rows = await local.api.listAll<{
    status: string;
    node_name: string | null;
    article_count: number;
    error_message: string | null;
  }>(`/api/v1/cascade/allocations?schedule_run_id=${runId}`);
  const byStatus = new Map<string, number>();
  for (const row of rows)
    byStatus.set(
      `${row.status} on ${row.node_name ?? '(unassigned)'}`,
      (byStatus.get(`${row.status} on ${row.node_name ?? '(unassigned)'}`) ?? 0) + 1,
    );
  console.log('allocations:');
  for (const [key, count] of byStatus) console.log(`  ${String(count).padStart(3)}  ${key}`);
  for (const row of rows.filter((r) => r.error_message)) console.log(`  error: ${row.error_message}`);
  console.log(`articles: ${rows.reduce((sum, r) => sum + r.article_count, 0)}`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await local.close();
}
