import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCascade } from '../../src/demo/local-cascade.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { deliveryRows, taskWithHeldAllocation } from '../helpers/delivery-seed.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { openTestStore } from '../helpers/store.js';
import { waitFor } from '../helpers/wait.js';
import { allFinal, expectedArticleIds, startChild, startCluster, stopEverything } from './harness.js';
import { spawnParent, stopAllParents } from './parent-processes.js';

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

/** A folder for spawned parents' logs and config, removed (parents stopped first) after the suite. */
function parentsFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-delivery-'));
  afterAll(async () => {
    await stopAllParents();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A config file for spawned parents: fast delivery passes and short leases, so recovery shows within seconds. */
function deliveryConfig(dir: string): string {
  const path = join(dir, 'config.yaml');
  // The receivers listen on 127.0.0.1, which the network policy refuses unless allowed.
  writeFileSync(
    path,
    [
      'network:',
      '  allow_cidrs: ["127.0.0.1"]',
      'delivery:',
      '  batch_seconds: 0',
      '  timeout_seconds: 2',
      '  lease_seconds: 3',
      '  retry_backoff_seconds: 0',
      '  poll_interval_ms: 100',
      '  concurrency: 2',
      '',
    ].join('\n'),
  );
  return path;
}

describe('deliveries from a real child run', () => {
  let local: LocalCascade;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    local = await startCluster({
      'delivery.batch_seconds': 5,
      'delivery.max_articles': 500,
      'delivery.poll_interval_ms': 100,
    });
  });
  afterAll(async () => {
    await stopEverything();
    await receiver.close();
  });

  it('the new articles of one run make exactly one delivery; a run with nothing new makes none', async () => {
    const feedIds = await local.addSampleFeeds(['rss2-tech-news.xml', 'atom-engineering-blog.atom']);
    const task = await local.api.call<{ id: string }>('POST', '/api/v1/message-tasks', {
      name: 'e2e',
      mps_id: feedIds.map((id) => ({ id })),
      message_type: 1,
      web_hook_url: `${receiver.url}/hook`,
      message_template:
        '{"ids": [{% for a in articles %}"{{ a.id }}"{% unless forloop.last %},{% endunless %}{% endfor %}]}',
    });
    const node = await local.addNode('worker', 10);
    startChild(local, node, 'worker', { maxConcurrency: 4 });
    const first = await local.dispatch(task.id);
    await waitFor('the run to finish', () => allFinal(local, first.schedule_run_id));
    await waitFor('the delivery to arrive', () => (receiver.received.length > 0 ? true : undefined));
    const expected = expectedArticleIds(local, feedIds);
    expect(expected.size).toBeGreaterThan(0);
    const [request] = receiver.received;
    expect((JSON.parse(request!.body) as { ids: string[] }).ids.sort()).toEqual([...expected].sort());
    // Fetched a moment ago, so not due yet (docs/refresh.md): forced, to fetch again at once.
    const second = await local.dispatch(task.id, { force: true });
    await waitFor('the second run to finish', () => allFinal(local, second.schedule_run_id));
    const store = local.parent.services.store;
    await waitFor('every delivery final', async () =>
      (await deliveryRows(store, task.id)).every((d) => d.status === 'delivered') ? true : undefined,
    );
    const rows = await deliveryRows(store, task.id);
    expect(rows).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.deliveryId).toBe(rows[0]?.id);
  });
});

describeEachStore('deliveries across a killed parent', (dialect) => {
  const dir = parentsFolder();

  it('kill -9 the parent while the receiver holds the send; after a restart the delivery is delivered once', async () => {
    const url = await dialect.createDatabase();
    const seeding: Store = await openTestStore(url, { 'delivery.batch_seconds': 0 });
    // The first send is held unanswered (the parent dies waiting); later ones are accepted.
    const receiver = await startReceiver((_request, index) => (index === 0 ? 'hang' : { status: 200 }));
    receivers.push(receiver);
    const work = await taskWithHeldAllocation(seeding, `${receiver.url}/hook`);
    await work.upload(work.articles(3));
    await seeding.close();

    const env = { CASCADE_CONFIG: deliveryConfig(dir) };
    const first = await spawnParent(url, dir, `killed-${dialect.variant.name}`, env);
    await waitFor('the first send to reach the receiver', () => (receiver.received.length === 1 ? true : undefined));
    first.process.kill('SIGKILL');
    await first.exited;

    const check = await openTestStore(url);
    try {
      expect((await deliveryRows(check, work.taskId)).map((d) => d.status)).toEqual(['sending']);
      await spawnParent(url, dir, `restarted-${dialect.variant.name}`, env);
      const [row] = await waitFor('the delivery to be delivered', async () => {
        const rows = await deliveryRows(check, work.taskId);
        return rows[0]?.status === 'delivered' ? rows : undefined;
      });
      expect(row).toMatchObject({ attempt: 2, last_status_code: 200 });
      expect(new Set(receiver.received.map((r) => r.deliveryId))).toEqual(new Set([row?.id]));
      expect(receiver.accepted).toEqual(new Set([row?.id]));
    } finally {
      await check.close();
    }
  });
});

describeEachStore(
  'deliveries from two parents on one database',
  (dialect) => {
    const dir = parentsFolder();

    it('each delivery is sent once, and both parents sent some', async () => {
      const url = await dialect.createDatabase();
      const store = await openTestStore(url, { 'delivery.batch_seconds': 0, 'delivery.max_articles': 1 });
      const receiver = await startReceiver(() => ({ status: 200, delayMs: 30 }));
      receivers.push(receiver);
      const work = await taskWithHeldAllocation(store, `${receiver.url}/hook`);
      await work.upload(work.articles(40));
      try {
        const env = { CASCADE_CONFIG: deliveryConfig(dir) };
        const parents = await Promise.all(
          ['a', 'b'].map((name) => spawnParent(url, dir, `sender-${name}-${dialect.variant.name}`, env)),
        );
        await waitFor('all 40 delivered', async () =>
          (await deliveryRows(store, work.taskId)).filter((d) => d.status === 'delivered').length === 40
            ? true
            : undefined,
        );
        expect(receiver.received).toHaveLength(40);
        expect(new Set(receiver.received.map((r) => r.deliveryId)).size).toBe(40);
        const sentBy = parents.map(
          (p) =>
            readFileSync(p.logFile, 'utf8')
              .split('\n')
              .filter((line) => line.includes('"delivery delivered"')).length,
        );
        expect(sentBy.reduce((a, b) => a + b, 0)).toBe(40);
        // Both parents took part, so the claims really ran side by side.
        for (const count of sentBy) expect(count).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    });
  },
  { only: ['postgres', 'mysql'] },
);
