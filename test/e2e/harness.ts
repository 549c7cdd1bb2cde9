import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { spawnChild, type ChildHandle } from '../../src/demo/child-process.js';
import { defaultFixtureDir } from '../../src/demo/fixture-server.js';
import { sampleFeedId, startLocalCascade, type LocalCascade } from '../../src/demo/local-cascade.js';
import type { AllocationRow } from '../../src/demo/progress.js';
import { parseFeedArticles } from '../../src/executors/feed-parse.js';
import { TSX_NODE_ARGS } from '../helpers/cli.js';

export type Allocation = AllocationRow & {
  feed_ids: string[];
  attempt: number;
  new_article_count: number;
  task_id: string;
};

/** Every child process a test started; `stopAllChildren` must leave none running. */
const handles: ChildHandle[] = [];
const clusters: LocalCascade[] = [];

export async function startCluster(overrides: Record<string, unknown> = {}): Promise<LocalCascade> {
  const local = await startLocalCascade({ overrides: { 'dispatch.retry_backoff_seconds': 0, ...overrides } });
  clusters.push(local);
  return local;
}

export function startChild(
  local: LocalCascade,
  node: { api_key: string; api_secret: string },
  name: string,
  options: {
    maxConcurrency: number;
    once?: boolean;
    cascade?: Record<string, unknown>;
    dir?: string;
    parentUrl?: string;
  },
): ChildHandle {
  const handle = spawnChild({
    name,
    parentUrls: [options.parentUrl ?? local.parent.url],
    apiKey: node.api_key,
    apiSecret: node.api_secret,
    dir: options.dir ?? join(local.dir, name),
    maxConcurrency: options.maxConcurrency,
    once: options.once,
    nodeArgs: TSX_NODE_ARGS,
    cascade: { heartbeat_interval: 1, claim_wait_seconds: 2, shutdown_grace_seconds: 20, ...options.cascade },
  });
  handles.push(handle);
  return handle;
}

/** Stops every child (SIGKILL after a short grace) and every cluster; asserts no child process is left. */
export async function stopEverything(): Promise<void> {
  const stopping = handles.splice(0);
  await Promise.all(stopping.map((h) => h.stop(2000)));
  for (const handle of stopping) expect(handle.running, `${handle.name} still running`).toBe(false);
  for (const local of clusters.splice(0)) await local.close();
}

export function allocations(local: LocalCascade, runId?: string): Promise<Allocation[]> {
  return local.api.listAll<Allocation>(
    `/api/v1/cascade/allocations${runId ? `?schedule_run_id=${encodeURIComponent(runId)}` : ''}`,
  );
}

const FINAL = ['completed', 'failed', 'timeout', 'cancelled'];

export async function allFinal(local: LocalCascade, runId: string): Promise<Allocation[] | undefined> {
  const rows = await allocations(local, runId);
  return rows.length > 0 && rows.every((r) => FINAL.includes(r.status)) ? rows : undefined;
}

/** What the parent should hold for these fixture files: article ids computed straight from the files. */
export function expectedArticleIds(local: LocalCascade, feedIds: string[]): Set<string> {
  const ids = new Set<string>();
  for (const fixture of local.feedServer.feeds) {
    const feedId = sampleFeedId(fixture.name);
    if (fixture.broken || !feedIds.includes(feedId)) continue;
    const body = readFileSync(join(defaultFixtureDir(), fixture.name), 'utf8');
    for (const article of parseFeedArticles(feedId, body, '')) ids.add(article.id);
  }
  return ids;
}

export async function storedArticles(local: LocalCascade): Promise<Array<{ id: string; mp_id: string }>> {
  return local.api.listAll<{ id: string; mp_id: string }>('/api/v1/articles');
}

export function readLog(handle: ChildHandle): string {
  try {
    return readFileSync(handle.logFile, 'utf8');
  } catch {
    return '';
  }
}
