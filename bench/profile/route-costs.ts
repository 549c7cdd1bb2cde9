import { withFreshDatabase, withParent } from '../lib/harness.js';
import { akSk, JsonClient } from '../lib/http-client.js';
import type { StoreKind } from '../lib/options.js';
import { sampleProcess } from '../lib/proc-stats.js';
import { openBenchStore, seedDispatchedWork } from '../lib/seed.js';

/**
 * What each child route costs the parent, one route at a time: the claim cycle's three requests sent in three
 * separate waves (all claims, then all `executing`, then all completions), then heartbeats and claims that find
 * nothing. Parent CPU per request, from /proc, with the parent in its own process as in the benchmark. It answers
 * "which request makes a cycle dearer than three heartbeats" (docs/benchmarks.md, findings).
 *
 *   node --import tsx bench/profile/route-costs.ts [sqlite|postgres|mysql]
 */
type Package = { allocation_id: string; task_id: string; feeds: Array<{ id: string }> };

const ALLOCATIONS = 2000;
const CONCURRENCY = 8;
const BASE = '/api/v1/cascade';
const store = (process.argv[2] ?? 'sqlite') as StoreKind;

await withFreshDatabase(store, async (db) => {
  const { store: seeded, config } = await openBenchStore(db.url);
  const { nodes } = await seedDispatchedWork(seeded, config, {
    nodeCount: CONCURRENCY,
    capacity: 10000,
    feedCount: ALLOCATIONS,
  });
  await seeded.close();
  await withParent(db.url, {}, async (parent) => {
    const clients = nodes.map((node) => new JsonClient(parent.url, akSk(node), 4));
    const claimed: Array<{ client: JsonClient; pkg: Package }> = [];
    const wave = async (send: (client: JsonClient, index: number) => Promise<boolean>): Promise<number> => {
      let sent = 0;
      await Promise.all(
        clients.map(async (client) => {
          while (await send(client, sent)) sent += 1;
        }),
      );
      return sent;
    };
    const eachClaimed = (request: (item: { client: JsonClient; pkg: Package }) => Promise<unknown>) => {
      let next = 0;
      return wave(async () => {
        const item = claimed[next++];
        if (!item) return false;
        await request(item);
        return true;
      });
    };
    const measure = async (route: string, run: () => Promise<number>) => {
      const before = sampleProcess(parent.pid);
      const requests = await run();
      const after = sampleProcess(parent.pid);
      process.stdout.write(
        `${route.padEnd(34)} ${String(requests).padStart(5)} requests  ${(((after.cpuMs - before.cpuMs) / requests) * 1000).toFixed(0).padStart(5)} µs parent CPU each\n`,
      );
    };
    process.stdout.write(`store ${store}, ${ALLOCATIONS} one-feed allocations, ${CONCURRENCY} simulated children\n`);
    await wave(
      async (client, index) => index < 400 && (await client.call('POST', `${BASE}/heartbeat`, {})).status === 200,
    ); // warm-up
    await measure('POST claim-task (one package)', () =>
      wave(async (client) => {
        const pkg = (await client.call<Package | null>('POST', `${BASE}/claim-task`)).body.data;
        if (pkg) claimed.push({ client, pkg });
        return pkg !== null;
      }),
    );
    await measure('PUT task-status executing', () =>
      eachClaimed(({ client, pkg }) =>
        client.call('PUT', `${BASE}/task-status`, { allocation_id: pkg.allocation_id, status: 'executing' }),
      ),
    );
    await measure('POST report-completion', () =>
      eachClaimed(({ client, pkg }) =>
        client.call('POST', `${BASE}/report-completion`, {
          allocation_id: pkg.allocation_id,
          task_id: pkg.task_id,
          results: pkg.feeds.map((feed) => ({
            mp_id: feed.id,
            status: 'success',
            article_count: 0,
            new_article_count: 0,
          })),
          article_count: 0,
        }),
      ),
    );
    await measure('POST heartbeat (the floor)', () =>
      eachClaimed(({ client }) => client.call('POST', `${BASE}/heartbeat`, {})),
    );
    await measure('POST claim-task (no work left)', () =>
      eachClaimed(({ client }) => client.call('POST', `${BASE}/claim-task`)),
    );
  });
});
