import PgBoss from 'pg-boss';
import { unreachableReason } from '../lib/databases.js';
import { withFreshDatabase } from '../lib/harness.js';
import { figure, type Figure, type Scenario } from '../lib/report-types.js';
import { openBenchStore, seedDispatchedWork } from '../lib/seed.js';
import { nowMs } from '../lib/stats.js';

const QUEUE = 'bench';

/** pg-boss 10 on a fresh PostgreSQL database: `jobs` jobs, `concurrency` workers each looping fetch + complete. Jobs/s. */
async function pgBossRun(jobs: number, concurrency: number): Promise<number> {
  return withFreshDatabase('postgres', async (db) => {
    // Same pool size as Cascade's default (10); no cron or maintenance timers running during the measurement.
    const boss = new PgBoss({ connectionString: db.url, max: 10, schedule: false, supervise: false });
    boss.on('error', () => undefined);
    await boss.start();
    try {
      await boss.createQueue(QUEUE);
      for (let i = 0; i < jobs; i += 1000) {
        await boss.insert(
          Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({
            name: QUEUE,
            data: { feed: `BENCH_${i + j + 1}` },
          })),
        );
      }
      let done = 0;
      const started = nowMs();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            const [job] = await boss.fetch<{ feed: string }>(QUEUE);
            if (!job) return;
            await boss.complete(QUEUE, job.id);
            done += 1;
          }
        }),
      );
      const elapsed = nowMs() - started;
      if (done !== jobs) throw new Error(`pg-boss completed ${done} of ${jobs} jobs`);
      return done / (elapsed / 1000);
    } finally {
      await boss.stop({ graceful: false, close: true, wait: true });
    }
  });
}

/**
 * Cascade's PostgreSQL path in this process: `concurrency` nodes each looping claim (with the task package, as the
 * claim route answers) + start (executing) + complete on the store, over `jobs` one-feed allocations dispatched to them. Allocations/s.
 */
async function cascadeRun(jobs: number, concurrency: number): Promise<number> {
  return withFreshDatabase('postgres', async (db) => {
    const { store, config } = await openBenchStore(db.url);
    try {
      const { nodes } = await seedDispatchedWork(store, config, {
        nodeCount: concurrency,
        capacity: 10000,
        feedCount: jobs,
      });
      let done = 0;
      const started = nowMs();
      await Promise.all(
        nodes.map(async (node) => {
          for (;;) {
            // What the claim route does: the allocation and its task package, as a child receives it.
            const {
              allocations: [allocation],
            } = await store.allocations.claimPackages(node.id, 1);
            if (!allocation) return;
            await store.allocations.start(allocation.id, node.id);
            await store.allocations.complete(
              allocation.id,
              node.id,
              allocation.feedIds.map((id) => ({ mp_id: id, status: 'success' as const, article_count: 0 })),
              0,
            );
            done += 1;
          }
        }),
      );
      const elapsed = nowMs() - started;
      if (done !== jobs) throw new Error(`Cascade completed ${done} of ${jobs} allocations`);
      return done / (elapsed / 1000);
    } finally {
      await store.close();
    }
  });
}

export const peerScenario: Scenario = {
  id: 'peer',
  title: '6. Peer: pg-boss fetch + complete vs Cascade claim + start + complete on PostgreSQL',
  fixedStore: 'postgres',
  async run({ options, log }) {
    // Only a PostgreSQL the operator named: a local server must not be used behind the back of a SQLite run.
    if (options.store !== 'postgres' && !process.env.CASCADE_BENCH_POSTGRES_URL) {
      return {
        status: 'skipped',
        note: 'skipped: needs PostgreSQL; run with --store postgres or set CASCADE_BENCH_POSTGRES_URL',
        parameters: {},
        figures: [],
      };
    }
    const unreachable = await unreachableReason('postgres');
    if (unreachable) return { status: 'skipped', note: `skipped: ${unreachable}`, parameters: {}, figures: [] };
    const jobs = options.quick ? 500 : 2000;
    const levels = [8];
    const figures: Figure[] = [];
    let cascadeFailure: string | null = null;
    for (const k of levels) {
      const boss: number[] = [];
      const cascade: number[] = [];
      for (let r = 0; r < options.runs; r += 1) {
        // Alternate who goes first so that neither always meets a warmer server.
        const order = r % 2 === 0 ? (['boss', 'cascade'] as const) : (['cascade', 'boss'] as const);
        for (const who of order) {
          if (who === 'boss') boss.push(await pgBossRun(jobs, k));
          else if (!cascadeFailure) {
            try {
              cascade.push(await cascadeRun(jobs, k));
            } catch (error) {
              // pg-boss is still measured, so the report keeps the peer's figure for a later comparison.
              cascadeFailure = (error as Error).message.split('\n')[0] ?? 'failed';
              log(`peer: Cascade on PostgreSQL failed: ${cascadeFailure}`);
            }
          }
        }
        log(
          `peer K=${k} run ${r + 1}: Cascade ${cascade.at(-1)?.toFixed(0) ?? '—'}/s, pg-boss ${boss.at(-1)?.toFixed(0)}/s`,
        );
      }
      figures.push(figure(`pgboss_per_s_k${k}`, `pg-boss fetch+complete, K=${k}`, 'jobs/s', boss));
      if (cascade.length === boss.length) {
        figures.push(
          figure(
            `cascade_pg_per_s_k${k}`,
            `Cascade claim+start+complete, PostgreSQL, K=${k}`,
            'allocations/s',
            cascade,
          ),
          figure(
            `peer_ratio_k${k}`,
            `Cascade ÷ pg-boss, K=${k}`,
            '×',
            cascade.map((c, i) => c / (boss[i] as number)),
            { op: '>=', value: 1 },
          ),
        );
      }
    }
    const notes = [
      cascadeFailure ? `Cascade on PostgreSQL failed: ${cascadeFailure}` : null,
      options.quick ? `quick: ${jobs} jobs per run instead of 2,000` : null,
    ].filter(Boolean);
    return {
      status: cascadeFailure ? 'failed' : 'ok',
      parameters: { jobs, concurrency: levels, pool_size: 10, pg_boss: '10.4.2', always_postgres: true },
      note: notes.length > 0 ? notes.join('; ') : null,
      figures,
    };
  },
};
