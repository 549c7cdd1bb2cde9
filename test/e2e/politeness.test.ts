import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/secrets.js';
import { spawnChild, type ChildHandle } from '../../src/demo/child-process.js';
import { databaseOf, type Store } from '../../src/store/store.js';
import { TSX_NODE_ARGS } from '../helpers/cli.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { openTestStore } from '../helpers/store.js';
import { waitFor } from '../helpers/wait.js';
import { spawnParent, stopAllParents, type ParentProcess } from './parent-processes.js';

/**
 * Issue 17 item 1 end to end: 8 child processes and 2 parent processes on one PostgreSQL database fetch feeds of
 * two hosts (`127.0.0.1` and `localhost`, both 127.0.0.1 on this machine; politeness counts them apart). The feed
 * server counts requests in progress per Host header and a sampler reads `host_state` throughout: neither may ever
 * exceed the limit. Then a host answering 429 with Retry-After is paused for every node of the fleet.
 */
const ADMIN = { username: 'admin', password: 'politeness-admin-password' };
const LIMIT = 2;
const FEEDS_PER_HOST = 16;
const CHILDREN = 8;

type FeedServer = {
  server: Server;
  port: number;
  peak: Map<string, number>;
  requests: Map<string, number>;
  close(): Promise<void>;
};

/** Serves a small RSS after a short delay (so fetches overlap), counting concurrent requests per host; /busy answers 429. */
async function startFeedServer(): Promise<FeedServer> {
  const current = new Map<string, number>();
  const peak = new Map<string, number>();
  const requests = new Map<string, number>();
  const server = createServer((request, response) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    current.set(host, (current.get(host) ?? 0) + 1);
    peak.set(host, Math.max(peak.get(host) ?? 0, current.get(host) as number));
    requests.set(host, (requests.get(host) ?? 0) + 1);
    const done = () => current.set(host, (current.get(host) ?? 1) - 1);
    if (request.url?.startsWith('/busy')) {
      done();
      response.writeHead(429, { 'retry-after': '3600', 'content-type': 'text/plain' }).end('slow down');
      return;
    }
    setTimeout(() => {
      done();
      const id = request.url ?? '/';
      response
        .writeHead(200, { 'content-type': 'application/rss+xml' })
        .end(
          `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description><item><title>a</title><link>http://x${id}</link><guid>${host}${id}</guid></item></channel></rss>`,
        );
    }, 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    peak,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describeEachStore(
  'politeness across 8 children and 2 parents',
  (dialect) => {
    let dir: string;
    let store: Store;
    let feeds: FeedServer;
    let parents: ParentProcess[];
    const children: ChildHandle[] = [];
    let token: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-polite-'));
      feeds = await startFeedServer();
      const url = await dialect.createDatabase();
      store = await openTestStore(url);
      await store.users.create({
        username: ADMIN.username,
        passwordHash: await hashPassword(ADMIN.password),
        role: 'admin',
      });
      const env = {
        CASCADE_POLITENESS_ENABLED: 'true',
        CASCADE_POLITENESS_MAX_IN_FLIGHT_PER_HOST: String(LIMIT),
        CASCADE_POLITENESS_MIN_INTERVAL_MS_PER_HOST: '0',
        CASCADE_FEEDS_PER_ALLOCATION: '1',
        CASCADE_RETRY_BACKOFF_SECONDS: '0',
      };
      parents = await Promise.all([spawnParent(url, dir, 'parent-a', env), spawnParent(url, dir, 'parent-b', env)]);
      const login = await api<{ access_token: string }>(parents[0]!.url, '/api/v1/auth/login', { json: ADMIN });
      token = login.body.data.access_token;
      for (let i = 0; i < CHILDREN; i++) {
        const { credentials } = await store.nodes.create({
          node_type: 1,
          name: `child-${i}`,
          sync_config: { max_capacity: 4 },
        });
        // Half talk to parent A first, half to parent B.
        const urls = parents.map((p) => p.url);
        children.push(
          spawnChild({
            name: `child-${i}`,
            parentUrls: i % 2 === 0 ? urls : [...urls].reverse(),
            apiKey: credentials!.api_key,
            apiSecret: credentials!.api_secret,
            dir: join(dir, `child-${i}`),
            maxConcurrency: 4,
            nodeArgs: TSX_NODE_ARGS,
            cascade: {
              heartbeat_interval: 1,
              claim_wait_seconds: 2,
              shutdown_grace_seconds: 5,
              retry_after_max_seconds: 0,
            },
          }),
        );
      }
      // Child processes start slowly on a loaded machine: dispatch only once every one has beaten, so all 8 compete.
      await waitFor(
        'every child to send a heartbeat',
        async () => {
          const beating = await databaseOf(store)
            .selectFrom('nodes')
            .select('id')
            .where('last_heartbeat_at', 'is not', null)
            .execute();
          return beating.length === CHILDREN ? true : undefined;
        },
        400_000,
      );
    }, 420_000);

    afterAll(async () => {
      await Promise.all(children.map((child) => child.stop(2000)));
      await stopAllParents();
      await store?.close();
      await feeds?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const setUrls = async (ids: string[], url: (i: number) => string) => {
      for (const [i, id] of ids.entries())
        await databaseOf(store)
          .updateTable('feeds')
          .set({ url: url(i) })
          .where('id', '=', id)
          .execute();
    };
    const dispatch = async (taskId: string) => {
      const answer = await api<{ schedule_run_id: string }>(
        parents[1]!.url,
        `/api/v1/cascade/dispatch-task?task_id=${taskId}`,
        { token, method: 'POST' },
      );
      expect(answer.status).toBe(200);
      return answer.body.data.schedule_run_id;
    };
    const statuses = async (runId: string) =>
      await databaseOf(store)
        .selectFrom('allocations')
        .select(['status', 'placement'])
        .where('schedule_run_id', '=', runId)
        .execute();

    it('no host ever has more than max_in_flight fetches, in the database or at the feed server', async () => {
      const ids = await seedFeeds(store, FEEDS_PER_HOST * 2, 'POLITE_');
      await setUrls(ids, (i) => `http://${i % 2 === 0 ? '127.0.0.1' : 'localhost'}:${feeds.port}/feed/${i}.xml`);
      const runId = await dispatch(await seedTask(store, ids));

      let samples = 0;
      let sampledPeak = 0;
      const waitingNotes = new Set<string>();
      await waitFor(
        'every allocation to complete, sampling host_state meanwhile',
        async () => {
          for (const row of await databaseOf(store).selectFrom('host_state').select(['host', 'in_flight']).execute()) {
            expect(Number(row.in_flight), `host_state of ${row.host}`).toBeLessThanOrEqual(LIMIT);
            expect(Number(row.in_flight), `host_state of ${row.host}`).toBeGreaterThanOrEqual(0);
            sampledPeak = Math.max(sampledPeak, Number(row.in_flight));
          }
          samples += 1;
          const rows = await statuses(runId);
          for (const row of rows)
            if (row.status === 'pending' && row.placement.startsWith('waiting: '))
              waitingNotes.add(row.placement.split(';')[0]!);
          return rows.length === ids.length && rows.every((r) => r.status === 'completed') ? true : undefined;
        },
        240_000,
      ).catch(async (error: unknown) => {
        const rows = await databaseOf(store)
          .selectFrom('allocations')
          .select(['status', 'attempt', 'error_message', 'placement'])
          .where('schedule_run_id', '=', runId)
          .execute();
        throw new Error(
          `${String(error)}: ${JSON.stringify(rows.filter((r) => r.status !== 'completed').slice(0, 5))}`,
        );
      });

      // Exact, not sampled: the most requests the server ever had in progress at once for each host.
      expect(feeds.peak.get('127.0.0.1')).toBeLessThanOrEqual(LIMIT);
      expect(feeds.peak.get('localhost')).toBeLessThanOrEqual(LIMIT);
      expect(feeds.requests.get('127.0.0.1')).toBe(FEEDS_PER_HOST);
      expect(feeds.requests.get('localhost')).toBe(FEEDS_PER_HOST);
      // The limit was reached (32 feed slots in the fleet), and work waited for it with the reason in its placement.
      expect(sampledPeak).toBe(LIMIT);
      expect(samples).toBeGreaterThan(1);
      expect(
        [...waitingNotes].some((note) => /^waiting: host (127\.0\.0\.1|localhost) has 2 fetches in flight/.test(note)),
      ).toBe(true);
      const hosts = await api<{ list: Array<{ host: string; in_flight: number; max_in_flight: number }> }>(
        parents[0]!.url,
        '/api/v1/cascade/hosts',
        { token },
      );
      expect(hosts.status).toBe(200);
      expect(hosts.body.data.list).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ host: '127.0.0.1', in_flight: 0, max_in_flight: LIMIT }),
          expect.objectContaining({ host: 'localhost', in_flight: 0 }),
        ]),
      );
    }, 300_000);

    it('a 429 with Retry-After from one child pauses its host for the whole fleet', async () => {
      const ids = await seedFeeds(store, 7, 'PAUSE_');
      await setUrls(ids, (i) =>
        i === 0 ? `http://localhost:${feeds.port}/busy` : `http://localhost:${feeds.port}/later/${i}.xml`,
      );
      const before = feeds.requests.get('localhost') ?? 0;
      // The 429 first, the rest once the host is paused: dispatched together, a slow machine could hand out and fetch
      // every other feed before the 429's report lands, leaving nothing for the pause to hold back (seen in CI).
      await dispatch(await seedTask(store, ids.slice(0, 1)));
      const paused = await waitFor(
        'the host to be paused',
        async () => {
          const row = await databaseOf(store)
            .selectFrom('host_state')
            .selectAll()
            .where('host', '=', 'localhost')
            .executeTakeFirst();
          return row?.paused_until && Number(row.paused_until) > Date.now() ? row : undefined;
        },
        120_000,
      );
      expect(paused.pause_reason).toMatch(/Retry-After/);
      // Work handed out before the pause may finish; after that no node asks the host again.
      await waitFor(
        'fetches handed out before the pause to end',
        async () => {
          const row = await databaseOf(store)
            .selectFrom('host_state')
            .select('in_flight')
            .where('host', '=', 'localhost')
            .executeTakeFirstOrThrow();
          return Number(row.in_flight) === 0 ? true : undefined;
        },
        60_000,
      );
      const afterPause = feeds.requests.get('localhost') ?? 0;
      const runId = await dispatch(await seedTask(store, ids.slice(1)));
      const rows = await waitFor(
        'the rest to wait for the host with the reason',
        async () => {
          const pending = (await statuses(runId)).filter((r) => r.status === 'pending');
          return pending.length > 0 &&
            pending.every((r) =>
              /^waiting: host localhost asked to be left alone \(Retry-After\) until /.test(r.placement),
            )
            ? pending
            : undefined;
        },
        60_000,
      );
      expect(rows.length).toBeGreaterThan(0);
      // Claims keep coming from 8 children for a few seconds: none of them reaches the paused host.
      const claimsBefore = await databaseOf(store)
        .selectFrom('allocation_attempts')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(feeds.requests.get('localhost') ?? 0).toBe(afterPause);
      expect(afterPause - before).toBeLessThan(7);
      const claimsAfter = await databaseOf(store)
        .selectFrom('allocation_attempts')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(claimsAfter.n)).toBe(Number(claimsBefore.n));
      const hosts = await api<{ list: Array<{ host: string; paused_until: string | null }> }>(
        parents[1]!.url,
        '/api/v1/cascade/hosts',
        { token },
      );
      expect(hosts.body.data.list.find((h) => h.host === 'localhost')?.paused_until).toBe(
        new Date(Number(paused.paused_until)).toISOString(),
      );
    }, 300_000);
  },
  { only: ['postgres'] },
);
