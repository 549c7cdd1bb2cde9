import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword, randomToken } from '../../src/auth/secrets.js';
import { AdminApi } from '../../src/demo/admin-api.js';
import { spawnChild, type ChildHandle } from '../../src/demo/child-process.js';
import { connectDatabase } from '../../src/store/dialects/connect.js';
import { createTestDatabase, type StoreVariant } from '../../test/helpers/databases.js';
import { openTestStore } from '../../test/helpers/store.js';
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { waitFor } from '../../test/helpers/wait.js';
import { startCorpus } from './corpus.js';
import { checkInvariants, type CapacitySample, type Violation } from './invariants.js';
import { countLive, readDatabaseFacts, sampleCapacity } from './observer.js';
import { planRun, type FaultEvent } from './plan.js';
import { CASCADE_BIN, crashHint, startParentProcess, track, type ParentHandle } from './processes.js';
import { Supervisor } from './supervisor.js';

const LEASE_SECONDS = 4;
const FEEDS = 16;
const CHILDREN = [
  { name: 'chaos-a', capacity: 2 },
  { name: 'chaos-b', capacity: 3 },
  { name: 'chaos-c', capacity: 3 },
  { name: 'chaos-d', capacity: 4 },
] as const;
/** Short lease, quick sweeps and no retry delay, so faults turn into requeues within seconds. */
const PARENT_ENV = {
  LOG_LEVEL: 'info',
  CASCADE_LEASE_SECONDS: String(LEASE_SECONDS),
  CASCADE_SWEEP_INTERVAL_SECONDS: '1',
  CASCADE_OFFLINE_AFTER_SECONDS: '5',
  CASCADE_RETRY_BACKOFF_SECONDS: '0',
  CASCADE_MAX_ATTEMPTS: '20',
  CASCADE_SCHEDULER_ENABLED: 'true',
};
/** Far longer than a healthy system needs (a lease, a sweep, a fetch); a stuck allocation waits out the cap. */
const DRAIN_MS = 45_000;
const FINAL_ROUND_MS = 45_000;
const ADMIN_CALL_MS = 5000;

export type ScenarioOptions = {
  seed: number;
  variant: StoreVariant;
  chaosMs: number;
  logDir: string;
  log: (line: string) => void;
  /** A shell command that restarts the real database server, run once halfway through the chaos. */
  serverRestart?: string | undefined;
};
export type ScenarioResult = { violations: Violation[]; summary: string[] };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One bounded run on one store: set up, inject the planned faults, heal, drain, check every invariant. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { seed, variant, log } = options;
  mkdirSync(options.logDir, { recursive: true });
  const database = await createTestDatabase(variant);
  const cleanups: Array<() => Promise<unknown>> = [async () => database.drop()];
  try {
    return await runOn(database.url, options, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
  }

  async function runOn(databaseUrl: string, o: ScenarioOptions, cleanup: typeof cleanups): Promise<ScenarioResult> {
    const admin = { username: 'chaos', password: randomToken(12) };
    const seeding = await openTestStore(databaseUrl);
    await seeding.users.create({
      username: admin.username,
      passwordHash: await hashPassword(admin.password),
      role: 'admin',
    });
    await seeding.close();
    const observer = await connectDatabase({ url: databaseUrl, poolSize: 2 });
    cleanup.push(() => observer.db.destroy());
    const corpus = await startCorpus({ seed, feeds: FEEDS });
    cleanup.push(() => corpus.close());

    // The parent reaches a server database only through this proxy, so a "restart" disturbs nobody else.
    let dbProxy: TcpProxy | undefined;
    let parentDatabaseUrl = databaseUrl;
    if (variant.name !== 'sqlite') {
      const target = new URL(databaseUrl);
      dbProxy = await startTcpProxy({
        host: target.hostname,
        port: Number(target.port || (variant.name === 'postgres' ? 5432 : 3306)),
      });
      cleanup.push(() => (dbProxy as TcpProxy).close());
      target.hostname = '127.0.0.1';
      target.port = String(dbProxy.port);
      parentDatabaseUrl = target.toString();
    }
    // One proxy per child (faults hit one child's link) and one for the run's own admin calls (never faulted).
    const childProxies = await Promise.all(CHILDREN.map(() => startTcpProxy({ port: 1 })));
    const adminProxy = await startTcpProxy({ port: 1 });
    for (const proxy of [...childProxies, adminProxy]) cleanup.push(() => proxy.close());

    const unexpectedExits: string[] = [];
    const startedAt = Date.now();
    const stamp = (): string => `+${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    const note = (line: string): void => log(`[${variant.name} ${stamp()}] ${line}`);
    const setupDeadline = Date.now() + 120_000;
    const recordCrash = (line: string): void => {
      unexpectedExits.push(line);
      note(`CRASH ${line}`);
    };

    const parentLog = join(o.logDir, 'parent.log');
    const parent = new Supervisor<ParentHandle>(
      'parent',
      async () => {
        const handle = await startParentProcess({
          databaseUrl: parentDatabaseUrl,
          logFile: parentLog,
          env: PARENT_ENV,
          timeoutMs: 30_000,
        });
        for (const proxy of [...childProxies, adminProxy]) proxy.setTarget(handle.port);
        return handle;
      },
      recordCrash,
      () => crashHint(parentLog),
      note,
    );
    cleanup.push(() => parent.close(10_000));
    await parent.start(setupDeadline);

    const api = new AdminApi(`http://127.0.0.1:${adminProxy.port}`);
    await api.login(admin.username, admin.password);
    for (const feed of corpus.feeds)
      await api.call('POST', '/api/v1/feeds', { id: feed.id, mp_name: feed.id, url: feed.url, status: 1 });
    const feedIds = corpus.feeds.map((f) => ({ id: f.id }));
    const manual = await api.call<{ id: string }>('POST', '/api/v1/message-tasks', {
      name: 'chaos: API dispatch',
      mps_id: feedIds,
      status: 1,
    });
    const cron = await api.call<{ id: string }>('POST', '/api/v1/message-tasks', {
      name: 'chaos: cron',
      mps_id: feedIds,
      status: 1,
      cron_exp: '*/10 * * * * *',
    });

    const children: Array<Supervisor<ChildHandle>> = [];
    for (const [i, spec] of CHILDREN.entries()) {
      const node = await api.call<{ id: string; api_key: string; api_secret: string }>(
        'POST',
        '/api/v1/cascade/nodes',
        { node_type: 1, name: spec.name, sync_config: { max_capacity: spec.capacity } },
      );
      const proxy = childProxies[i] as TcpProxy;
      const child = new Supervisor<ChildHandle>(
        spec.name,
        async () =>
          track(
            spawnChild({
              name: spec.name,
              parentUrls: [`http://127.0.0.1:${proxy.port}`],
              apiKey: node.api_key,
              apiSecret: node.api_secret,
              dir: join(o.logDir, spec.name),
              maxConcurrency: spec.capacity,
              entry: CASCADE_BIN,
              nodeArgs: [],
              detached: true,
              cascade: { heartbeat_interval: 1, claim_wait_seconds: 2, shutdown_grace_seconds: 5 },
            }),
          ),
        recordCrash,
        () => crashHint(join(o.logDir, spec.name, 'child.log')),
        note,
      );
      cleanup.push(() => child.close(5000));
      await child.start(setupDeadline);
      children.push(child);
    }
    await waitFor(
      'every child online',
      async () => {
        const nodes = await api.listAll<{ status: number }>('/api/v1/cascade/nodes?node_type=1');
        return nodes.filter((n) => n.status === 1).length === CHILDREN.length ? true : undefined;
      },
      60_000,
    );

    // Capacity is sampled through the whole run, straight from the database.
    const capacityViolations: CapacitySample[] = [];
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const now = await sampleCapacity(observer.db, Date.now() - startedAt);
          samples += now.length;
          capacityViolations.push(...now.filter((s) => s.loadFeeds > s.maxCapacity || s.heldFeeds > s.maxCapacity));
        } catch (error) {
          note(`sample failed: ${(error as Error).message}`);
        }
        await sleep(500);
      }
    })();
    cleanup.push(async () => {
      sampling = false;
      await sampler;
    });

    const plan = planRun({
      seed,
      durationMs: o.chaosMs,
      children: CHILDREN.length,
      feeds: FEEDS,
      leaseSeconds: LEASE_SECONDS,
      databaseFaults: dbProxy !== undefined,
    });
    note(
      `chaos for ${(o.chaosMs / 1000).toFixed(0)} s: ${plan.faults.length} faults, ${plan.dispatches.length} dispatches planned`,
    );
    const chaosStart = Date.now();
    const runDeadline = chaosStart + o.chaosMs + 120_000;
    const inFlight: Array<Promise<void>> = [];
    const counts = new Map<string, number>();
    let dispatchesOk = 0;
    let dispatchesFailed = 0;
    const dispatch = async (): Promise<string | undefined> => {
      try {
        const result = await withTimeout(
          api.call<{ schedule_run_id: string }>(
            'POST',
            `/api/v1/cascade/dispatch-task?task_id=${encodeURIComponent(manual.id)}&force=true`,
          ),
          ADMIN_CALL_MS,
        );
        dispatchesOk++;
        return result.schedule_run_id;
      } catch {
        dispatchesFailed++;
        return undefined;
      }
    };
    const inject = (fault: FaultEvent): Promise<void> => {
      counts.set(fault.kind, (counts.get(fault.kind) ?? 0) + 1);
      note(
        `${fault.kind} ${typeof fault.target === 'number' ? CHILDREN[fault.target]?.name : fault.target} for ${fault.durationMs} ms${fault.delayMs ? ` (${fault.delayMs} ms delay)` : ''}`,
      );
      const child = typeof fault.target === 'number' ? children[fault.target] : undefined;
      const proxy = typeof fault.target === 'number' ? childProxies[fault.target] : undefined;
      const during = async (set: () => void, clear: () => void): Promise<void> => {
        set();
        await sleep(fault.durationMs);
        clear();
      };
      switch (fault.kind) {
        case 'kill-child':
          return child ? child.kill(fault.durationMs, runDeadline) : Promise.resolve();
        case 'stop-child':
          return child ? child.pause(fault.durationMs) : Promise.resolve();
        case 'kill-parent':
          return parent.kill(fault.durationMs, runDeadline);
        case 'stop-parent':
          return parent.pause(fault.durationMs);
        case 'reset-connections':
          proxy?.cutAll();
          return Promise.resolve();
        case 'drop-responses':
          return during(
            () => proxy?.setFault({ kind: 'drop-responses' }),
            () => proxy?.setFault(null),
          );
        case 'delay':
          return during(
            () => proxy?.setFault({ kind: 'delay', ms: fault.delayMs ?? 500 }),
            () => proxy?.setFault(null),
          );
        case 'blackhole':
          return during(
            () => proxy?.setFault({ kind: 'blackhole' }),
            () => proxy?.setFault(null),
          );
        case 'database-outage':
          return dbProxy ? dbProxy.outage(fault.durationMs) : Promise.resolve();
      }
    };
    const restarts = o.serverRestart
      ? [{ atMs: Math.round(o.chaosMs / 2), run: () => restartServer(o.serverRestart as string) }]
      : [];
    const restartServer = async (command: string): Promise<void> => {
      counts.set('server-restart', (counts.get('server-restart') ?? 0) + 1);
      note(`server-restart: ${command}`);
      const result = await runShell(command);
      note(`server-restart: exit ${result.code}${result.output ? `: ${result.output}` : ''}`);
      if (result.code !== 0) throw new Error(`the server restart command failed (exit ${result.code})`);
    };
    const events = [
      ...restarts,
      ...plan.faults.map((f) => ({ atMs: f.atMs, run: () => inject(f) })),
      ...plan.dispatches.map((d) => ({
        atMs: d.atMs,
        run: async () => {
          for (const grow of d.newArticles) corpus.grow(grow.feed, grow.count);
          await dispatch();
        },
      })),
    ].sort((a, b) => a.atMs - b.atMs);
    for (const event of events) {
      await sleep(Math.max(0, chaosStart + event.atMs - Date.now()));
      inFlight.push(event.run().catch((error: unknown) => note(`event failed: ${(error as Error).message}`)));
    }
    await sleep(Math.max(0, chaosStart + o.chaosMs - Date.now()));

    note('healing: faults end, stopped processes continue, dead ones start');
    await Promise.all(inFlight);
    for (const proxy of [...childProxies, ...(dbProxy ? [dbProxy] : [])]) proxy.setFault(null);
    await parent.ensureRunning(runDeadline);
    for (const child of children) await child.ensureRunning(runDeadline);
    await withTimeout(
      api.call('PUT', `/api/v1/message-tasks/${encodeURIComponent(cron.id)}`, { status: 0 }),
      ADMIN_CALL_MS,
    ).catch((error: unknown) => note(`could not stop the cron task: ${(error as Error).message}`));

    const drained = await settle(observer.db, undefined, DRAIN_MS);
    note(drained ? 'drained: no live allocation' : `not drained after ${DRAIN_MS / 1000} s`);
    // The final round fetches every feed again, with the corpus frozen: each completed feed must then hold all.
    // A dispatch whose answer timed out may still have committed, and a retry then places only the feeds it left
    // out: the round is every allocation dispatched from here on, not just the run whose answer arrived.
    const finalRoundFromMs = Date.now();
    let finalRun: string | undefined;
    for (let tries = 0; tries < 10 && !finalRun; tries++)
      finalRun = (await dispatch()) ?? (await sleep(1000), undefined);
    const finalSettled = finalRun ? await settle(observer.db, undefined, FINAL_ROUND_MS) : false;
    note(
      finalRun ? `final round ${finalSettled ? 'settled' : 'did not settle'}` : 'final round could not be dispatched',
    );
    sampling = false;
    await sampler;

    const facts = await readDatabaseFacts(observer.db);
    const checkedFeeds = new Map<string, string[]>();
    for (const allocation of facts.allocations.filter(
      (a) => a.dispatchedAtMs >= finalRoundFromMs && a.status === 'completed',
    )) {
      for (const feedId of allocation.feedIds)
        checkedFeeds.set(feedId, corpus.articleLinks(corpus.feeds.findIndex((f) => f.id === feedId)));
    }
    const violations = checkInvariants({
      ...facts,
      nowMs: Date.now(),
      samples: capacityViolations,
      checkedFeeds,
      unexpectedExits,
      faultsInjected: [...counts.values()].reduce((a, b) => a + b, 0),
    });
    const summary = [
      `faults injected: ${[...counts].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'}`,
      `dispatches: ${dispatchesOk} answered, ${dispatchesFailed} failed or timed out (during faults); final round ${finalRun ?? 'none'}`,
      `allocations: ${facts.allocations.length} (${facts.allocations.filter((a) => a.status === 'completed').length} completed), attempts ${facts.attempts.length}`,
      `articles: ${facts.articles.length} stored; ${checkedFeeds.size} of ${FEEDS} feeds checked against the corpus (${corpus.requests} feed requests, ${corpus.notModified} answered 304)`,
      `capacity samples: ${samples}; proxies: ${describeProxies(childProxies, dbProxy)}`,
    ];
    return { violations, summary };
  }
}

/** Waits until no allocation (of the run, when given) is live; false at the deadline. */
async function settle(
  db: Parameters<typeof countLive>[0],
  runId: string | undefined,
  timeoutMs: number,
): Promise<boolean> {
  try {
    await waitFor(
      'no live allocation',
      async () => ((await countLive(db, runId)).live === 0 ? true : undefined),
      timeoutMs,
    );
    return true;
  } catch {
    return false;
  }
}

function describeProxies(children: TcpProxy[], db: TcpProxy | undefined): string {
  const sum = (key: 'droppedResponses' | 'resets' | 'blackholedChunks' | 'refused'): number =>
    children.reduce((n, p) => n + p.stats[key], 0);
  return `child links: ${sum('droppedResponses')} answers dropped, ${sum('resets')} connections reset, ${sum('blackholedChunks')} chunks black-holed${db ? `; database: ${db.stats.resets} connections cut, ${db.stats.refused} refused` : ''}`;
}

/** Runs a shell command to its end (bounded at two minutes); its output, trimmed, for the run's log. */
function runShell(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim().slice(0, 500) });
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
