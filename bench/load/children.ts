import { akSk, JsonClient, type HttpAnswer } from '../lib/http-client.js';
import { emit, onCommand, scriptInput } from '../lib/script-process.js';
import type { NodeCredentials } from '../lib/seed.js';
import { nowMs, percentile } from '../lib/stats.js';

/**
 * The load generator: simulated child nodes talking HTTP to a parent in another process. It runs one command
 * at a time from the runner (stdin) and answers with an event (stdout). Each simulated child has its own
 * keep-alive connection, as separate child processes would.
 */
type Input = { parentUrl: string; nodes: NodeCredentials[] };
type Package = { allocation_id: string; task_id: string; feeds: Array<{ id: string }> };

const input = scriptInput<Input>();
const clients = input.nodes.map((node) => new JsonClient(input.parentUrl, akSk(node), 4));
const BASE = '/api/v1/cascade';

const errors = { count: 0, first: '' };
function check<T>(answer: HttpAnswer<T>, what: string): HttpAnswer<T> {
  if (answer.status !== 200) {
    errors.count += 1;
    errors.first ||= `${what}: HTTP ${answer.status} ${answer.body.error ?? ''} ${answer.body.message}`;
  }
  return answer;
}

/** executing → report-completion with a no-op executor: every feed succeeded with no articles. */
async function finish(client: JsonClient, pkg: Package): Promise<void> {
  check(
    await client.call('PUT', `${BASE}/task-status`, { allocation_id: pkg.allocation_id, status: 'executing' }),
    'task-status',
  );
  const results = pkg.feeds.map((f) => ({ mp_id: f.id, status: 'success', article_count: 0, new_article_count: 0 }));
  check(
    await client.call('POST', `${BASE}/report-completion`, {
      allocation_id: pkg.allocation_id,
      task_id: pkg.task_id,
      results,
      article_count: 0,
    }),
    'report-completion',
  );
}

async function cycles(concurrency: number, deadlineMs: number | undefined): Promise<void> {
  const latencies: number[] = [];
  let done = 0;
  const started = nowMs();
  await Promise.all(
    clients.slice(0, concurrency).map(async (client) => {
      for (;;) {
        if (deadlineMs !== undefined && Date.now() >= deadlineMs) return;
        const sent = nowMs();
        const answer = check(await client.call<Package | null>('POST', `${BASE}/claim-task`), 'claim-task');
        latencies.push(nowMs() - sent);
        const pkg = answer.body.data;
        if (answer.status !== 200 || !pkg) return;
        await finish(client, pkg);
        done += 1;
      }
    }),
  );
  const elapsedMs = nowMs() - started;
  emit('cycles', {
    cycles: done,
    elapsedMs,
    claimP50Ms: percentile(latencies, 50),
    claimP99Ms: percentile(latencies, 99),
    claims: latencies.length,
    errors,
  });
}

/** The floor: the same number of authenticated round trips to the cheapest child route (heartbeat). */
async function floor(concurrency: number, requests: number): Promise<void> {
  let issued = 0;
  const started = nowMs();
  await Promise.all(
    clients.slice(0, concurrency).map(async (client) => {
      while (issued < requests) {
        issued += 1;
        check(await client.call('POST', `${BASE}/heartbeat`, {}), 'heartbeat');
      }
    }),
  );
  emit('floor', { requests: issued, elapsedMs: nowMs() - started, errors });
}

/** Idle children long-poll; each records when its claim answered with work, then finishes it. */
async function poll(concurrency: number, waitSeconds: number): Promise<void> {
  const claimedAtMs: number[] = [];
  const rounds = clients.slice(0, concurrency).map(async (client) => {
    for (;;) {
      const pending = client.call<Package | null>('POST', `${BASE}/claim-task?wait=${waitSeconds}`);
      const answer = check(await pending, 'claim-task');
      if (answer.status !== 200) return;
      const pkg = answer.body.data;
      if (!pkg) continue;
      claimedAtMs.push(nowMs());
      await finish(client, pkg);
      return;
    }
  });
  emit('polling');
  await Promise.all(rounds);
  emit('round', { claimedAtMs, errors });
}

let heartbeatsStop: (() => Promise<void>) | undefined;
/** Every node heartbeats each `intervalMs`, starting at staggered offsets, until stopped. */
function startHeartbeats(intervalMs: number): void {
  let stopped = false;
  let count = 0;
  const started = nowMs();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  clients.forEach((client, i) => {
    const beat = () => {
      if (stopped) return;
      const call = client.call('POST', `${BASE}/heartbeat`, { current_tasks: 0 }).then((a) => {
        check(a, 'heartbeat');
        count += 1;
      });
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
      const timer = setTimeout(beat, intervalMs);
      timers.add(timer);
    };
    timers.add(setTimeout(beat, (intervalMs * i) / clients.length));
  });
  heartbeatsStop = async () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([...inFlight]);
    emit('heartbeats', { count, elapsedMs: nowMs() - started, errors });
  };
}

onCommand((command) => {
  const run = async () => {
    switch (command.command) {
      case 'cycles':
        return cycles(
          Number(command.concurrency),
          command.deadlineMs === undefined ? undefined : Number(command.deadlineMs),
        );
      case 'floor':
        return floor(Number(command.concurrency), Number(command.requests));
      case 'poll':
        return poll(Number(command.concurrency), Number(command.waitSeconds));
      case 'heartbeats':
        return startHeartbeats(Number(command.intervalMs));
      case 'stop-heartbeats':
        return heartbeatsStop?.();
      default:
        throw new Error(`unknown command '${command.command}'`);
    }
  };
  run().catch((error: unknown) => emit('error', { message: (error as Error).message }));
});
process.once('SIGTERM', () => {
  for (const client of clients) client.close();
  process.exit(0);
});
emit('ready');
