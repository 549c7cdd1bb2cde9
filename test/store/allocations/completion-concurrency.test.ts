import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { isTransientDatabaseError } from '../../../src/store/dialects/transient-error.js';
import type { Store } from '../../../src/store/store.js';
import { databaseOf } from '../../../src/store/store.js';
import { describeEachStore } from '../../helpers/databases.js';
import { assertLoadCountersConsistent, seedFeeds } from '../../helpers/seed.js';
import { openTestStore } from '../../helpers/store.js';

const NODES = 4;
const WORKERS_PER_NODE = 4;
const ALLOCATIONS = 240;
const FEEDS_PER_ALLOCATION = 2;
const ARTICLES_PER_FEED = 3;

describeEachStore('completions under concurrency', (dialect) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const store of new Set(stores.splice(0))) await store.close();
  });

  /**
   * Workers on shared nodes claim, start and complete until no work is left, as children do, on two stores (two
   * parents; one on SQLite, which serves one parent process). Returns every operation the database gave up on with
   * a deadlock or lock-wait error (each is repeated, as a child repeats a request answered 503, so the run ends).
   */
  async function run(overrides: Record<string, unknown>, urlOf: (feedIndex: number) => string): Promise<string[]> {
    const url = await dialect.createDatabase();
    const settings = { 'dispatch.lease_seconds': 600, ...overrides };
    const parentA = await openTestStore(url, settings);
    const parentB = dialect.variant.name === 'sqlite' ? parentA : await openTestStore(url, settings);
    stores.push(parentA, parentB);
    const nodeIds: string[] = [];
    for (let i = 0; i < NODES; i++)
      nodeIds.push(
        (await parentA.nodes.create({ node_type: 1, name: `child-${i}`, sync_config: { max_capacity: 4 } })).node.id,
      );
    const feeds = await seedFeeds(parentA, ALLOCATIONS * FEEDS_PER_ALLOCATION, 'cc');
    for (const [i, feedId] of feeds.entries())
      await databaseOf(parentA)
        .updateTable('feeds')
        .set({ url: urlOf(i) })
        .where('id', '=', feedId)
        .execute();
    const now = Date.now();
    // Articles already stored, so that each completion's rhythm reads a history.
    await databaseOf(parentA)
      .insertInto('articles')
      .values(
        feeds.flatMap((mp, f) =>
          Array.from({ length: ARTICLES_PER_FEED }, (_, i) => ({
            id: `a${i}`,
            mp_id: mp,
            title: '',
            url: '',
            pic_url: '',
            description: '',
            content: '',
            content_markdown: '',
            publish_time: Math.floor(now / 1000) - 3600 * (i + 1) - f,
            ext: null,
            allocation_id: null,
            node_id: null,
            created_at: now,
            updated_at: now,
          })),
        ),
      )
      .execute();
    const outcome = await parentA.allocations.dispatch({
      taskId: 'task-1',
      taskName: 'task one',
      feedIds: feeds,
      scheduleRunId: `run-${now}`,
      nowMs: now,
      feedsPerAllocation: FEEDS_PER_ALLOCATION,
      offlineAfterSeconds: 180,
    });
    expect(outcome.allocationsCreated).toBe(ALLOCATIONS);

    const gaveUp: string[] = [];
    const attempt = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
      for (let retry = 0; ; retry++) {
        try {
          return await op();
        } catch (error) {
          if (!isTransientDatabaseError(error) || retry >= 20) throw error;
          gaveUp.push(`${what}: ${(error as Error).message}`);
        }
      }
    };
    const worker = async (nodeId: string, store: Store) => {
      for (;;) {
        const rows = await attempt('claim', () => store.allocations.claim(nodeId, 1));
        if (rows.length === 0) {
          if ((await store.allocations.views.countByStatus()).pending === undefined) return;
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        for (const row of rows) {
          await attempt('start', () => store.allocations.start(row.id, nodeId));
          const ids = row.feedIds;
          await attempt('complete', () =>
            store.allocations.complete(
              row.id,
              nodeId,
              // Reported against key order, as a child may name them.
              [...ids].reverse().map((mp) => ({ mp_id: mp, status: 'success', article_count: 0 })),
              0,
            ),
          );
        }
      }
    };
    await Promise.all(
      Array.from({ length: NODES * WORKERS_PER_NODE }, (_, i) =>
        worker(nodeIds[i % NODES] as string, i % 2 === 0 ? parentA : parentB),
      ),
    );
    if (gaveUp.length > 0 && dialect.variant.name === 'mysql') {
      const { rows } = await sql<{ Status: string }>`show engine innodb status`.execute(databaseOf(parentA));
      const status = rows[0]?.Status ?? '';
      const start = status.indexOf('LATEST DETECTED DEADLOCK');
      console.log(start < 0 ? 'no deadlock recorded' : status.slice(start, status.indexOf('\nTRANSACTIONS\n', start)));
    }
    expect(await parentA.allocations.views.countByStatus()).toEqual({ completed: ALLOCATIONS });
    await assertLoadCountersConsistent(parentA);
    const inFlight = await databaseOf(parentA).selectFrom('host_state').select('in_flight').execute();
    expect(inFlight.filter((h) => Number(h.in_flight) !== 0)).toEqual([]);
    return gaveUp;
  }

  it('without politeness: no claim, start or completion gives up on a lock', async () => {
    expect(await run({}, (i) => `http://127.0.0.1:9/${i}.xml`)).toEqual([]);
  });

  it('with politeness, allocations spanning hosts: no claim, start or completion gives up on a lock', async () => {
    // Hosts that the databases order differently from localeCompare ('_' after digits in code-unit order).
    const hosts = ['x1.com', 'x_y.com', 'x2.com', 'x_z.com'];
    const gaveUp = await run(
      {
        'politeness.enabled': true,
        'politeness.max_in_flight_per_host': 1000,
        'politeness.min_interval_ms_per_host': 0,
      },
      (i) => `http://${hosts[(i + Math.floor(i / hosts.length)) % hosts.length]}/${i}.xml`,
    );
    expect(gaveUp).toEqual([]);
  });
});
