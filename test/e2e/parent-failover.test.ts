import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/secrets.js';
import { AdminApi } from '../../src/demo/admin-api.js';
import { spawnChild, type ChildHandle } from '../../src/demo/child-process.js';
import { defaultFixtureDir, startFixtureServer, type FixtureServer } from '../../src/demo/fixture-server.js';
import { sampleFeedId } from '../../src/demo/local-cascade.js';
import { parseFeedArticles } from '../../src/executors/feed-parse.js';
import type { Store } from '../../src/store/store.js';
import { TSX_NODE_ARGS } from '../helpers/cli.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';
import { spawnParent, stopAllParents, type ParentProcess } from './parent-processes.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

const ADMIN = { username: 'admin', password: 'failover-admin-password' };
const FEEDS = [
  'rss2-tech-news.xml',
  'rss2-podcast.xml',
  'atom-release-notes.atom',
  'atom-engineering-blog.atom',
  'jsonfeed11-photos.json',
  'rdf-science.rdf',
];

describeEachStore(
  'parent failover',
  (dialect) => {
    let dir: string;
    let store: Store;
    let url: string;
    let feedServer: FixtureServer;
    const children: ChildHandle[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-failover-'));
      url = await dialect.createDatabase();
      store = await openTestStore(url);
      await store.users.create({
        username: ADMIN.username,
        passwordHash: await hashPassword(ADMIN.password),
        role: 'admin',
      });
      feedServer = await startFixtureServer();
    });
    afterAll(async () => {
      await Promise.all(children.map((c) => c.stop(2000)));
      for (const child of children) expect(child.running, `${child.name} still running`).toBe(false);
      await stopAllParents();
      await feedServer?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('two parents, three children, SIGKILL one parent mid-run: every allocation completes once, no article twice', async () => {
      const [doomed, survivor] = (await Promise.all([
        spawnParent(url, dir, 'parent-doomed'),
        spawnParent(url, dir, 'parent-survivor'),
      ])) as [ParentProcess, ParentProcess];
      const admin = new AdminApi(survivor.url);
      await admin.login(ADMIN.username, ADMIN.password);
      const feedIds: string[] = [];
      for (const fixture of feedServer.feeds.filter((f) => FEEDS.includes(f.name))) {
        feedIds.push(
          (
            await admin.call<{ id: string }>('POST', '/api/v1/feeds', {
              id: sampleFeedId(fixture.name),
              mp_name: fixture.name,
              url: fixture.url,
              status: 1,
            })
          ).id,
        );
      }
      const task = await admin.call<{ id: string }>('POST', '/api/v1/message-tasks', {
        name: 'failover',
        mps_id: feedIds.map((id) => ({ id })),
        status: 1,
      });
      feedServer.setDelayMs(60_000); // fetches hang until the doomed parent is dead
      for (let i = 0; i < 3; i++) {
        const node = await admin.call<{ id: string; api_key: string; api_secret: string }>(
          'POST',
          '/api/v1/cascade/nodes',
          { node_type: 1, name: `child-${i}`, sync_config: { max_capacity: 2 } },
        );
        children.push(
          spawnChild({
            name: `child-${i}`,
            // The doomed parent first: every child talks to it until it dies, then fails over to the survivor.
            parentUrls: [doomed.url, survivor.url],
            apiKey: node.api_key,
            apiSecret: node.api_secret,
            dir: join(dir, `child-${i}`),
            maxConcurrency: 2,
            nodeArgs: TSX_NODE_ARGS,
            cascade: { heartbeat_interval: 1, claim_wait_seconds: 2, shutdown_grace_seconds: 5 },
          }),
        );
      }
      await waitFor('three children online', async () => {
        const nodes = await admin.listAll<{ status: number }>('/api/v1/cascade/nodes?node_type=1');
        return nodes.filter((n) => n.status === 1).length === 3 ? true : undefined;
      });
      const run = await admin.call<{ schedule_run_id: string; allocations_created: number }>(
        'POST',
        `/api/v1/cascade/dispatch-task?task_id=${task.id}`,
      );
      expect(run.allocations_created).toBe(FEEDS.length);
      const rowsOfRun = () =>
        databaseOf(store)
          .selectFrom('allocations')
          .selectAll()
          .where('schedule_run_id', '=', run.schedule_run_id)
          .execute();
      await waitFor('work executing on the children', async () =>
        (await rowsOfRun()).filter((r) => r.status === 'executing').length >= 3 ? true : undefined,
      );

      doomed.process.kill('SIGKILL');
      expect((await doomed.exited).signal).toBe('SIGKILL');
      feedServer.setDelayMs(0);

      const rows = await waitFor(
        'every allocation final',
        async () => {
          const current = await rowsOfRun();
          return current.every((r) => ['completed', 'failed', 'timeout', 'cancelled'].includes(r.status))
            ? current
            : undefined;
        },
        90_000,
      );
      expect(rows.map((r) => r.status)).toEqual(FEEDS.map(() => 'completed'));
      const attempts = await databaseOf(store)
        .selectFrom('allocation_attempts')
        .select(['allocation_id', 'outcome'])
        .where('outcome', '=', 'completed')
        .execute();
      expect(attempts.map((a) => a.allocation_id).sort()).toEqual(rows.map((r) => r.id).sort());
      const expected = new Set<string>();
      for (const fixture of feedServer.feeds.filter((f) => FEEDS.includes(f.name))) {
        for (const article of parseFeedArticles(
          sampleFeedId(fixture.name),
          readFileSync(join(defaultFixtureDir(), fixture.name), 'utf8'),
          '',
        ))
          expected.add(article.id);
      }
      const stored = await databaseOf(store).selectFrom('articles').select(['id']).execute();
      expect(stored.length).toBe(expected.size);
      expect(new Set(stored.map((a) => a.id))).toEqual(expected);
      for (const child of children) expect(child.running, `${child.name} survived its parent's death`).toBe(true);
    });
  },
  { only: ['postgres'] },
);
