/**
 * Child mode (子节点拉取示例): run the child agent once: claim until there is no work, fetch, report.
 * With CASCADE_PARENT_API_URL, CASCADE_API_KEY and CASCADE_API_SECRET set it works against that parent;
 * without them it starts a local parent with sample work first. Run: `node --import tsx examples/child.ts`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildAgent } from '../src/child/agent.js';
import { resolveChildSettings } from '../src/child/child-settings.js';
import { loadConfig } from '../src/config/load.js';
import { startLocalCascade, type LocalCascade } from '../src/demo/local-cascade.js';
import { feedExecutor } from '../src/executors/feed.js';
import { createLogger } from '../src/logger.js';

let local: LocalCascade | undefined;
const env = { ...process.env };
if (!env.CASCADE_PARENT_API_URL && !env.CASCADE_PARENT_URL) {
  local = await startLocalCascade({ logLevel: 'warn' });
  const node = await local.addNode('example-child', 6);
  const task = await local.createTask('Example: sample feeds', await local.addSampleFeeds());
  Object.assign(env, {
    CASCADE_PARENT_API_URL: local.parent.url,
    CASCADE_API_KEY: node.api_key,
    CASCADE_API_SECRET: node.api_secret,
  });
  // Dispatch before the child's first heartbeat: the work waits unassigned and the child claims it from the pool.
  await local.dispatch(task.id);
}
const dataDir = mkdtempSync(join(tmpdir(), 'cascade-example-child-'));
try {
  const config = loadConfig({
    env: {
      ...env,
      CASCADE_NODE_TYPE: 'child',
      CASCADE_NETWORK_ALLOW_CIDRS: env.CASCADE_NETWORK_ALLOW_CIDRS ?? '127.0.0.1',
      CASCADE_DATA_DIR: dataDir,
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    },
  });
  const agent = new ChildAgent({
    settings: resolveChildSettings(config),
    executor: feedExecutor,
    logger: createLogger(config.log_level),
    once: true,
  });
  console.log('child finished:', await agent.run());
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await local?.close();
}
