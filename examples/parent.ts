/**
 * Parent mode (父节点分发示例): start a parent, register a child node and the sample feeds, create a task and
 * dispatch it; print what the dispatcher decided. Run: `node --import tsx examples/parent.ts`
 */
import { startLocalCascade } from '../src/demo/local-cascade.js';

const local = await startLocalCascade({ logLevel: 'warn' });
try {
  const node = await local.addNode('example-child', 5);
  console.log(
    `child node created: ${node.id}\n  api_key    ${node.api_key}\n  api_secret ${node.api_secret}  (shown once)`,
  );
  const feedIds = await local.addSampleFeeds();
  const task = await local.createTask('Example: sample feeds', feedIds);
  // The node has never sent a heartbeat, so it is offline: every feed waits in the unassigned pool.
  const result = await local.dispatch(task.id);
  console.log('dispatch result:', result);
  const allocations = await local.api.listAll<{
    id: string;
    status: string;
    node_name: string | null;
    feed_ids: string[];
  }>(`/api/v1/cascade/allocations?schedule_run_id=${result.schedule_run_id}`);
  console.log(`${allocations.length} allocations, first: ${JSON.stringify(allocations[0])}`);
} finally {
  await local.close();
}
