import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/secrets.js';
import { describeEachStore, withMysql, withPostgres, type StoreVariant } from '../helpers/databases.js';
import { api, type ApiResponse } from '../helpers/http.js';
import { claimRechecks, scrapeSample } from '../helpers/metrics.js';
import { openTestStore } from '../helpers/store.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { spawnParent, stopAllParents, type ParentProcess } from './parent-processes.js';

const ADMIN = { username: 'admin', password: 'db-faults-admin-password' };
const KILL_ROUNDS = 5;
/** The LISTEN test's long-poll: the longest wait a claim may ask for, so that its own re-check comes last. */
const CLAIM_WAIT_S = 60;

type Credentials = { api_key: string; api_secret: string };
type Outcome = { route: string; status: number | 'socket error' };

/** Ends every server connection of the test's own database (never another test's), returns how many it ended. */
async function killConnections(variant: StoreVariant, databaseUrl: string): Promise<number> {
  const database = new URL(databaseUrl).pathname.slice(1);
  const adminUrl = variant.adminUrl ?? '';
  if (variant.name === 'postgres') {
    return withPostgres(adminUrl, async (client) => {
      const { rowCount } = await client.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [database],
      );
      return rowCount ?? 0;
    });
  }
  return withMysql(adminUrl, async (connection) => {
    const [rows] = await connection.query(
      'select id from information_schema.processlist where db = ? and id <> connection_id()',
      [database],
    );
    let killed = 0;
    for (const { id } of rows as Array<{ id: number }>) {
      // A connection may end on its own between the listing and the KILL.
      await connection.query(`kill ${Number(id)}`).then(
        () => (killed += 1),
        () => undefined,
      );
    }
    return killed;
  });
}

/** Requests of the three kinds a parent serves all day (child writes, child claims, admin reads), in a loop. */
function startLoad(
  url: string,
  node: Credentials,
  token: string,
  workers = 4,
): { outcomes: Outcome[]; stop(): Promise<void> } {
  const outcomes: Outcome[] = [];
  let running = true;
  const calls: Array<[string, () => Promise<ApiResponse>]> = [
    ['heartbeat', () => api(url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} })],
    ['claim', () => api(url, '/api/v1/cascade/claim-task?wait=0', { aksk: node, method: 'POST' })],
    ['nodes', () => api(url, '/api/v1/cascade/nodes', { token })],
  ];
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let i = worker; running; i++) {
      const [route, call] = calls[i % calls.length]!;
      try {
        outcomes.push({ route, status: (await call()).status });
      } catch {
        outcomes.push({ route, status: 'socket error' });
      }
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits until every kind of request succeeds again: the parent serves without a restart. */
async function waitServing(url: string, node: Credentials, token: string): Promise<void> {
  await waitFor('the parent serving again', async () => {
    const answers = await Promise.all([
      api(url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} }),
      api(url, '/api/v1/cascade/nodes', { token }),
      api(url, '/readyz'),
    ]);
    return answers.every((a) => a.status === 200) ? true : undefined;
  });
}

function expectOnly200Or503(outcomes: Outcome[]): void {
  const unexpected = outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  expect(unexpected, 'every answer under the fault is 200 or 503: no 500, no dropped socket').toEqual([]);
}

describeEachStore(
  'parent under database faults',
  (dialect) => {
    let dir: string;
    let databaseUrl: string;
    /** A migrated database with the admin user, dropped after the suite. */
    async function seededDatabase(): Promise<string> {
      const url = await dialect.createDatabase();
      const store = await openTestStore(url);
      try {
        await store.users.create({
          username: ADMIN.username,
          passwordHash: await hashPassword(ADMIN.password),
          role: 'admin',
        });
      } finally {
        await store.close();
      }
      return url;
    }
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-dbfaults-'));
      databaseUrl = await seededDatabase();
    });
    afterAll(async () => {
      await stopAllParents();
      rmSync(dir, { recursive: true, force: true });
    });

    async function prepare(
      parent: ParentProcess,
      name: string,
    ): Promise<{ token: string; node: Credentials & { id: string } }> {
      const login = await api<{ access_token: string }>(parent.url, '/api/v1/auth/login', { json: ADMIN });
      const token = login.body.data.access_token;
      const created = await api<Credentials & { id: string }>(parent.url, '/api/v1/cascade/nodes', {
        token,
        json: { node_type: 1, name },
      });
      expect(created.status).toBe(200);
      // Online, so dispatches place work on it.
      expect((await api(parent.url, '/api/v1/cascade/heartbeat', { aksk: created.body.data, json: {} })).status).toBe(
        200,
      );
      return { token, node: created.body.data };
    }

    it('connections killed again and again under load: the parent stays up, answers 503 at worst, then 200', async () => {
      const parent = await spawnParent(databaseUrl, dir, 'parent-kill');
      const { token, node } = await prepare(parent, 'kill-load');
      const load = startLoad(parent.url, node, token);
      try {
        for (let round = 0; round < KILL_ROUNDS; round++) {
          await waitFor('requests under load', () => (load.outcomes.length > (round + 1) * 20 ? true : undefined));
          expect(
            await killConnections(dialect.variant, databaseUrl),
            'the parent had connections to end',
          ).toBeGreaterThan(0);
          await waitServing(parent.url, node, token);
        }
      } finally {
        await load.stop();
      }
      expect(parent.running, `parent still alive; see ${parent.logFile}`).toBe(true);
      expectOnly200Or503(load.outcomes);
      await waitServing(parent.url, node, token);
      expect(readFileSync(parent.logFile, 'utf8')).not.toMatch(/Unhandled 'error' event/);
    });

    it('a database restart seen through a TCP proxy (all connections cut, new ones refused for 3 s): 503 during, 200 after', async () => {
      const target = new URL(databaseUrl);
      const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      try {
        const viaProxy = new URL(databaseUrl);
        viaProxy.hostname = '127.0.0.1';
        viaProxy.port = String(proxy.port);
        const parent = await spawnParent(viaProxy.toString(), dir, 'parent-proxy');
        const { token, node } = await prepare(parent, 'proxy-load');
        const load = startLoad(parent.url, node, token);
        let during: Outcome[] = [];
        try {
          await waitFor('requests under load', () => (load.outcomes.length > 20 ? true : undefined));
          expect(proxy.open, 'the parent talks to the database through the proxy').toBeGreaterThan(0);
          const before = load.outcomes.length;
          await proxy.outage(3000);
          during = load.outcomes.slice(before);
          await waitServing(parent.url, node, token);
        } finally {
          await load.stop();
        }
        expect(parent.running, `parent still alive; see ${parent.logFile}`).toBe(true);
        expect(
          during.filter((o) => o.status === 503).length,
          'requests during the outage were told to retry',
        ).toBeGreaterThan(0);
        expectOnly200Or503(load.outcomes);
      } finally {
        await proxy.close();
      }
    });

    it.runIf(dialect.variant.name === 'postgres')(
      'the LISTEN connection killed: a dispatch by another parent still wakes a parked long-poll',
      { timeout: 120_000 },
      async () => {
        // A database of its own: the earlier tests' parents and nodes stay up on the shared one. Their online nodes
        // would take the work (placement breaks ties by name, 'kill-load' first), leaving the woken long-poll nothing
        // it may claim, and their LISTEN connections would pass for this parent's in "LISTEN back after the kill".
        const ownUrl = await seededDatabase();
        // The listening parent's sweeper stays out of the way: its local wake-ups could answer the long-poll too.
        const [listener, dispatcher] = (await Promise.all([
          spawnParent(ownUrl, dir, 'parent-listen', { CASCADE_SWEEP_INTERVAL_SECONDS: '3600' }),
          spawnParent(ownUrl, dir, 'parent-dispatch'),
        ])) as [ParentProcess, ParentProcess];
        const { token, node } = await prepare(dispatcher, 'listen-node');
        /** Server pids of the LISTEN connections on the test database. */
        const listeners = () =>
          withPostgres(dialect.variant.adminUrl ?? '', async (client) => {
            const { rows } = await client.query<{ pid: number }>(
              "select pid from pg_stat_activity where datname = $1 and query ilike 'listen %'",
              [new URL(ownUrl).pathname.slice(1)],
            );
            return rows.map((r) => r.pid);
          });
        // A first long-poll makes the listening parent open its LISTEN connection.
        await api(listener.url, '/api/v1/cascade/claim-task?wait=0.5', { aksk: node, method: 'POST' });
        const killed = await waitFor('LISTEN in place', async () => {
          const pids = await listeners();
          return pids.length > 0 ? pids : undefined;
        });
        expect(await killConnections(dialect.variant, ownUrl)).toBeGreaterThan(0);
        // A terminated backend may linger in pg_stat_activity for a moment: wait for a new one.
        await waitFor('LISTEN back after the kill, on a new connection', async () =>
          (await listeners()).some((pid) => !killed.includes(pid)) ? true : undefined,
        );

        const feed = await api<{ id: string }>(dispatcher.url, '/api/v1/feeds', {
          token,
          json: { mp_name: 'listen feed', url: 'http://127.0.0.1:9/feed.xml', status: 1 },
        });
        const task = await api<{ id: string }>(dispatcher.url, '/api/v1/message-tasks', {
          token,
          json: { name: 'listen task', mps_id: [{ id: feed.body.data.id }], status: 1 },
        });
        const before = await claimRechecks(listener.url);
        const claim = api<{ allocation_id: string } | null>(
          listener.url,
          `/api/v1/cascade/claim-task?wait=${CLAIM_WAIT_S}`,
          { aksk: node, method: 'POST' },
        );
        await waitFor('the long-poll parked on the listening parent', async () =>
          (await scrapeSample(listener.url, 'cascade_claims_waiting')) === 1 ? true : undefined,
        );
        const run = await api<{ allocations_created: number }>(
          dispatcher.url,
          `/api/v1/cascade/dispatch-task?task_id=${task.body.data.id}`,
          { token, method: 'POST' },
        );
        expect(run.body.data.allocations_created).toBe(1);
        const placed = await api<{ list: Array<{ node_id: string | null }> }>(
          dispatcher.url,
          `/api/v1/cascade/allocations?task_id=${task.body.data.id}`,
          { token },
        );
        expect(
          placed.body.data.list.map((a) => a.node_id),
          'the work is placed on the parked node',
        ).toEqual([node.id]);
        const answer = await claim;
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        expect(
          answer.body.data?.allocation_id,
          `the parked long-poll got the work: ${JSON.stringify(answer.body)}`,
        ).toBeTruthy();
        // Getting the work proves nothing by itself: a claim looks once more when its wait runs out. Only a look
        // caused by a wake-up, and none by the timer, shows that the NOTIFY reached the new LISTEN connection.
        const after = await claimRechecks(listener.url);
        expect(after.timer - before.timer, 'the long-poll found the work when its wait ran out: no wake-up').toBe(0);
        expect(after.abort - before.abort).toBe(0);
        expect(
          after.wake - before.wake,
          'the long-poll looked again because of a wake-up (none: it had the work at its first look, before the dispatch)',
        ).toBeGreaterThan(0);
        expect(listener.running).toBe(true);
      },
    );
  },
  { only: ['postgres', 'mysql'] },
);
