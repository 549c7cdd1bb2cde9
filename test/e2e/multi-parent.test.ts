import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/secrets.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { claimRechecks, scrapeSample } from '../helpers/metrics.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { openTestStore } from '../helpers/store.js';
import { spawnParent, stopAllParents, type ParentProcess } from './parent-processes.js';
import { waitFor } from '../helpers/wait.js';
import { databaseOf } from '../../src/store/store.js';

const ADMIN = { username: 'admin', password: 'multi-parent-admin-password' };
const ALLOCATIONS = 96;
const CLAIMERS = 32;
type Node = { id: string; api_key: string; api_secret: string };
type Pkg = { allocation_id: string };

/** A database with an admin, seeded through a store the test keeps open to inspect the outcome. */
async function prepare(databaseUrl: string): Promise<Store> {
  const store = await openTestStore(databaseUrl);
  await store.users.create({
    username: ADMIN.username,
    passwordHash: await hashPassword(ADMIN.password),
    role: 'admin',
  });
  return store;
}

async function login(parent: ParentProcess): Promise<string> {
  const response = await api<{ access_token: string }>(parent.url, '/api/v1/auth/login', { json: ADMIN });
  expect(response.status).toBe(200);
  return response.body.data.access_token;
}

describeEachStore(
  'two parent processes on one database: claims',
  (dialect) => {
    let dir: string;
    let store: Store;
    let taskId: string;
    let a: ParentProcess;
    let b: ParentProcess;
    let token: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-parents-'));
      const url = await dialect.createDatabase();
      store = await prepare(url);
      taskId = await seedTask(store, await seedFeeds(store, ALLOCATIONS));
      // The sweeper also wakes local waiters when new work's available_at passes; keep it out of the way so only the
      // cross-process wake can wake B's long-poll.
      const env = { CASCADE_SWEEP_INTERVAL_SECONDS: '3600' };
      [a, b] = await Promise.all([spawnParent(url, dir, 'parent-a', env), spawnParent(url, dir, 'parent-b', env)]);
      token = await login(a);
    });
    afterAll(async () => {
      await stopAllParents();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'a long-poll waiter on parent B is woken by the wake-up parent A sends when it dispatches',
      { timeout: 120_000 },
      async () => {
        // A login token from A works on B: both read the signing key from the shared store.
        expect((await api(b.url, '/api/v1/cascade/nodes', { token })).status).toBe(200);
        const created = await api<Node>(a.url, '/api/v1/cascade/nodes', {
          token,
          json: { node_type: 1, name: 'waiter', sync_config: { max_capacity: 1 } },
        });
        const waiter = created.body.data;
        // B's wake channel wakes its waiters once when it starts (PostgreSQL: LISTEN in place; MySQL: first read of
        // the work epoch). A first long-poll takes that wake-up, so that every later one on B answers a publish.
        const warmUp = new AbortController();
        const warmUpClaim = api(b.url, '/api/v1/cascade/claim-task?wait=60', {
          method: 'POST',
          aksk: waiter,
          signal: warmUp.signal,
        }).catch(() => undefined);
        await waitFor("B's wake channel started", async () =>
          (await claimRechecks(b.url)).wake > 0 ? true : undefined,
        );
        warmUp.abort();
        await warmUpClaim;
        await waitFor('the first long-poll gone from B', async () =>
          (await scrapeSample(b.url, 'cascade_claims_waiting')) === 0 ? true : undefined,
        );

        const before = await claimRechecks(b.url);
        // wait=60: B's own re-check comes only when the wait runs out, and the test would see it in the counter.
        const claim = api<Pkg | null>(b.url, '/api/v1/cascade/claim-task?wait=60', { method: 'POST', aksk: waiter });
        await waitFor('the long-poll parked on B', async () =>
          (await scrapeSample(b.url, 'cascade_claims_waiting')) === 1 ? true : undefined,
        );
        const dispatched = await api<{ allocations_created: number }>(
          a.url,
          `/api/v1/cascade/dispatch-task?task_id=${taskId}`,
          { method: 'POST', token },
        );
        expect(dispatched.body.data.allocations_created).toBe(ALLOCATIONS);
        const answer = await claim;
        expect(answer.status).toBe(200);
        expect(answer.body.data?.allocation_id).toEqual(expect.any(String));
        const after = await claimRechecks(b.url);
        // Getting the work proves nothing by itself: the claim looks once more when its wait runs out. Only a look
        // caused by a wake-up, and none by the timer, shows that A's wake-up reached B.
        expect(after.timer - before.timer, 'the waiter on B found the work when its wait ran out: no wake-up').toBe(0);
        expect(after.abort - before.abort).toBe(0);
        expect(
          after.wake - before.wake,
          'the waiter on B looked again because of a wake-up (none: it had the work at its first look, before the dispatch)',
        ).toBeGreaterThan(0);
      },
    );

    it(`${CLAIMERS} concurrent claimers spread across both parents claim each allocation exactly once`, async () => {
      const nodes: Node[] = [];
      for (let i = 0; i < CLAIMERS; i++) {
        const created = await api<Node>(i % 2 === 0 ? a.url : b.url, '/api/v1/cascade/nodes', {
          token,
          json: { node_type: 1, name: `claimer-${i}`, sync_config: { max_capacity: 100 } },
        });
        expect(created.status).toBe(200);
        nodes.push(created.body.data);
      }
      const claimedBy = new Map<string, string[]>();
      const pending = async () =>
        (await databaseOf(store).selectFrom('allocations').select('id').where('status', '=', 'pending').execute())
          .length;
      await Promise.all(
        nodes.map(async (node, i) => {
          const parent = i % 2 === 0 ? a : b;
          for (;;) {
            const claim = await api<{ list: Pkg[] }>(parent.url, '/api/v1/cascade/claim-task?max=2&wait=0', {
              method: 'POST',
              aksk: node,
            });
            expect(claim.status).toBe(200);
            for (const pkg of claim.body.data.list)
              claimedBy.set(pkg.allocation_id, [...(claimedBy.get(pkg.allocation_id) ?? []), node.id]);
            if (claim.body.data.list.length === 0) {
              // Empty can mean "others hold the row locks right now"; stop only when nothing is pending at all.
              if ((await pending()) === 0) return;
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          }
        }),
      );
      expect([...claimedBy.entries()].filter(([, holders]) => holders.length !== 1)).toEqual([]);
      // The waiter of the first test holds one; the claimers hold all the others.
      expect(claimedBy.size).toBe(ALLOCATIONS - 1);
      const rows = await databaseOf(store).selectFrom('allocations').select(['id', 'status', 'node_id']).execute();
      expect(rows.filter((r) => r.status !== 'claimed')).toEqual([]);
      for (const [id, holders] of claimedBy) expect(rows.find((r) => r.id === id)?.node_id).toBe(holders[0]);
      expect((await databaseOf(store).selectFrom('allocation_attempts').select('id').execute()).length).toBe(
        ALLOCATIONS,
      );
    });
  },
  { only: ['postgres', 'mysql'] },
);

describeEachStore(
  'two parent processes on one database: cron',
  (dialect) => {
    let dir: string;
    let store: Store;
    let url: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-parents-'));
      url = await dialect.createDatabase();
      store = await prepare(url);
    });
    afterAll(async () => {
      await stopAllParents();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a 6-field cron firing every second dispatches once per tick across both parents', async () => {
      const taskId = await seedTask(store, await seedFeeds(store, 3), { cron: '* * * * * *' });
      const parents = await Promise.all(
        ['cron-a', 'cron-b'].map((name) => spawnParent(url, dir, name, { CASCADE_SCHEDULER_ENABLED: 'true' })),
      );
      const token = await login(parents[0] as ParentProcess);
      const ticks = () =>
        databaseOf(store)
          .selectFrom('schedule_ticks')
          .select(['scheduled_at', 'fired_at'])
          .where('task_id', '=', taskId)
          .execute();
      await waitFor('five cron ticks', async () => ((await ticks()).length >= 5 ? true : undefined));
      // Stopping waits for in-flight ticks, so the counters and the tick rows below describe the same ticks.
      for (const parent of parents)
        expect((await api(parent.url, '/api/v1/cascade/stop-scheduler', { method: 'POST', token })).status).toBe(200);

      const fired = await ticks();
      const times = fired.map((t) => Number(t.scheduled_at)).sort((x, y) => x - y);
      expect(new Set(times).size).toBe(times.length);
      expect(times.every((t) => t % 1000 === 0)).toBe(true);
      // No tick is recorded before its own second: a parent that keyed a firing under a later second (so that both
      // parents' rows for one firing got two keys) would show here. (Unique whole seconds can never outnumber the
      // seconds they span, so counting them against the elapsed time proved nothing more.)
      expect(fired.filter((t) => Number(t.fired_at) < Number(t.scheduled_at))).toEqual([]);
      let dispatches = 0;
      for (const parent of parents) {
        const metrics = await fetch(`${parent.url}/metrics`).then((r) => r.text());
        dispatches += Number(/^cascade_dispatches_total\{trigger="cron"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
      }
      // Each parent counts only the ticks it won; together they count every tick once.
      expect(dispatches).toBe(times.length);
      // Only the first tick found work; later ticks skip the feeds still in flight.
      expect((await databaseOf(store).selectFrom('allocations').select('id').execute()).length).toBe(3);
    });
  },
  { only: ['postgres', 'mysql'] },
);
