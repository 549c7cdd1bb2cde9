import { assertNoErrors, withFreshDatabase, withLoad, withParent, type LoadErrors } from '../lib/harness.js';
import { JsonClient, login } from '../lib/http-client.js';
import type { StoreKind } from '../lib/options.js';
import { figure, type Scenario } from '../lib/report-types.js';
import { BENCH_ADMIN, openBenchStore, seedAdmin, seedFeeds, seedNodes, seedTask } from '../lib/seed.js';
import { nowMs, percentile } from '../lib/stats.js';

type RoundEvent = { claimedAtMs: number[]; errors: LoadErrors };

/**
 * Time the children's long-polls need to reach the parent and start waiting before a dispatch. A claim that
 * arrives later still finds its work at once, so this only keeps the measurement about waking, not arriving.
 */
const SETTLE_MS = 150;

export type LatencyRun = { p50Ms: number; p99Ms: number; p50FromRequestMs: number; samples: number };

/**
 * One run: K idle children (capacity 1 each) long-poll `claim-task?wait=30`; the runner dispatches a task of K
 * feeds over the admin API, so each child gets exactly one allocation; each latency is the child's claim answer
 * minus the dispatch answer (both wall-clock instants on this host). Repeated for `rounds` dispatches.
 */
async function dispatchLatencyRun(store: StoreKind, children: number, rounds: number): Promise<LatencyRun> {
  return withFreshDatabase(store, async (db) => {
    const { store: s } = await openBenchStore(db.url);
    let nodes;
    let taskId: string;
    try {
      await seedAdmin(s);
      nodes = await seedNodes(s, children, { capacity: 1, online: true });
      taskId = await seedTask(s, await seedFeeds(s, children));
    } finally {
      await s.close();
    }
    return withParent(db.url, {}, async (parent) => {
      const admin = new JsonClient(parent.url, await login(parent.url, BENCH_ADMIN.username, BENCH_ADMIN.password));
      try {
        return await withLoad(parent.url, nodes, async (load) => {
          const fromAnswer: number[] = [];
          const fromRequest: number[] = [];
          for (let round = 0; round < rounds; round += 1) {
            load.send({ command: 'poll', concurrency: children, waitSeconds: 30 });
            await load.next('polling');
            await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
            const sent = nowMs();
            const answer = await admin.call<{ allocations_created: number; feeds_assigned: number }>(
              'POST',
              `/api/v1/cascade/dispatch-task?task_id=${taskId}&force=true`,
            );
            const answered = nowMs();
            if (answer.status !== 200 || answer.body.data.feeds_assigned !== children)
              throw new Error(`dispatch failed: ${JSON.stringify(answer.body)}`);
            const done = await load.next<RoundEvent>('round', 60_000);
            assertNoErrors('long-poll round', done.errors);
            for (const at of done.claimedAtMs) {
              fromAnswer.push(at - answered);
              fromRequest.push(at - sent);
            }
          }
          return {
            p50Ms: percentile(fromAnswer, 50),
            p99Ms: percentile(fromAnswer, 99),
            p50FromRequestMs: percentile(fromRequest, 50),
            samples: fromAnswer.length,
          };
        });
      } finally {
        admin.close();
      }
    });
  });
}

export const dispatchLatencyScenario: Scenario = {
  id: 'dispatch-latency',
  title: '4. Dispatch → start latency with idle children long-polling',
  async run({ options, log }) {
    const children = 8;
    const rounds = options.quick ? 5 : 20;
    const runs: LatencyRun[] = [];
    for (let r = 0; r < options.runs; r += 1) {
      runs.push(await dispatchLatencyRun(options.store, children, rounds));
      const last = runs.at(-1) as LatencyRun;
      log(
        `dispatch-latency run ${r + 1}: p50 ${last.p50Ms.toFixed(1)} ms, p99 ${last.p99Ms.toFixed(1)} ms (${last.samples} claims)`,
      );
    }
    return {
      parameters: {
        children,
        rounds_per_run: rounds,
        wait_s: 30,
        settle_ms: SETTLE_MS,
        measured_from: 'the dispatch answer at the admin client',
      },
      note: options.quick ? `quick: ${rounds} dispatches per run instead of 20` : null,
      figures: [
        figure(
          'dispatch_to_claim_p50_ms',
          'dispatch answer → claim answer p50',
          'ms',
          runs.map((r) => r.p50Ms),
          { op: '<=', value: 20 },
        ),
        figure(
          'dispatch_to_claim_p99_ms',
          'dispatch answer → claim answer p99',
          'ms',
          runs.map((r) => r.p99Ms),
        ),
        figure(
          'dispatch_request_to_claim_p50_ms',
          'dispatch request sent → claim answer p50',
          'ms',
          runs.map((r) => r.p50FromRequestMs),
        ),
      ],
    };
  },
};
