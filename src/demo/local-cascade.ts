import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, randomToken } from '../auth/secrets.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { startParent, type Parent } from '../parent/parent.js';
import { AdminApi } from './admin-api.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { NodeType } from '../domain/node-liveness.js';

export type LocalCascade = {
  dir: string;
  /** The running parent (replaced by restartParent). */
  readonly parent: Parent;
  /** Stops the parent, keeping its database, port and the admin session for a later startParentAgain(). */
  stopParent(): Promise<void>;
  /** Starts the parent again on the same database and port. */
  startParentAgain(): Promise<void>;
  feedServer: FixtureServer;
  api: AdminApi;
  admin: { username: string; password: string };
  /** Creates a child node; returns its id and the credentials shown once. */
  addNode(name: string, capacity: number): Promise<{ id: string; api_key: string; api_secret: string }>;
  /** Registers the sample feeds (all, or those whose file names are given; url → the fixture server); returns their ids. */
  addSampleFeeds(names?: string[]): Promise<string[]>;
  createTask(name: string, feedIds: string[]): Promise<{ id: string }>;
  /** `force`: every enabled feed, also those not due yet (docs/refresh.md); a run that repeats a fetch needs it. */
  dispatch(
    taskId?: string,
    options?: { force?: boolean },
  ): Promise<{
    allocations_created: number;
    schedule_run_id: string;
    feeds_assigned: number;
    feeds_unassigned: number;
  }>;
  close(): Promise<void>;
};

/** The feed id the demo gives a fixture file: `rss2-tech-news.xml` → `DEMO_RSS2_TECH_NEWS`. */
export function sampleFeedId(fixtureName: string): string {
  return `DEMO_${fixtureName
    .replace(/\.[a-z]+$/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()}`;
}

/**
 * A parent on SQLite in a temporary folder, the sample-feed server, and an admin session: the starting point of
 * the demo and the examples. Setup goes through the public management API, as a user would.
 */
export async function startLocalCascade(
  options: { overrides?: Record<string, unknown>; logLevel?: string } = {},
): Promise<LocalCascade> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-local-'));
  const feedServer = await startFixtureServer();
  let parent: Parent | undefined;
  try {
    const config = loadConfig({
      env: {},
      overrides: {
        host: '127.0.0.1',
        port: 0,
        log_level: options.logLevel ?? 'info',
        'database.url': `sqlite:${join(dir, 'cascade.db')}`,
        'scheduler.enabled': false,
        // Everything runs on 127.0.0.1, which a fresh install refuses to reach: allow it explicitly.
        'network.allow_cidrs': ['127.0.0.1'],
        // Every sample feed lives on the one local sample server: the per-host defaults (2 fetches at once, 1 s
        // apart, docs/politeness.md) would queue them one by one. A real site keeps the defaults.
        'politeness.hosts': { '127.0.0.1': { max_in_flight: 16, min_interval_ms: 0 } },
        ...options.overrides,
      },
    });
    parent = await startParent(config, createLogger(config.log_level, createWriteStream(join(dir, 'parent.log'))));
    const admin = { username: 'admin', password: randomToken(12) };
    await parent.services.store.users.create({
      username: admin.username,
      passwordHash: await hashPassword(admin.password),
      role: 'admin',
    });
    const api = new AdminApi(parent.url);
    await api.login(admin.username, admin.password);
    let running: Parent = parent;
    const port = Number(new URL(parent.url).port);
    const logStream = createWriteStream(join(dir, 'parent.log'), { flags: 'a' });
    return {
      dir,
      get parent() {
        return running;
      },
      stopParent: () => running.close(),
      async startParentAgain() {
        running = await startParent({ ...config, port }, createLogger(config.log_level, logStream));
      },
      feedServer,
      api,
      admin,
      addNode: (name, capacity) =>
        api.call('POST', '/api/v1/cascade/nodes', {
          node_type: NodeType.child,
          name,
          sync_config: { max_capacity: capacity },
        }),
      async addSampleFeeds(names) {
        const ids: string[] = [];
        for (const fixture of feedServer.feeds.filter((f) => !names || names.includes(f.name))) {
          const id = sampleFeedId(fixture.name);
          await api.call('POST', '/api/v1/feeds', {
            id,
            mp_name: fixture.name,
            url: fixture.url,
            status: EnabledStatus.enabled,
          });
          ids.push(id);
        }
        return ids;
      },
      createTask: (name, feedIds) =>
        api.call('POST', '/api/v1/message-tasks', {
          name,
          mps_id: feedIds.map((id) => ({ id })),
          status: EnabledStatus.enabled,
        }),
      dispatch: (taskId, options = {}) => {
        const query = new URLSearchParams({
          ...(taskId ? { task_id: taskId } : {}),
          ...(options.force ? { force: 'true' } : {}),
        }).toString();
        return api.call('POST', `/api/v1/cascade/dispatch-task${query ? `?${query}` : ''}`);
      },
      async close() {
        await running.close();
        await feedServer.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await parent?.close();
    await feedServer.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
