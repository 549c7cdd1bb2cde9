import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createHttpSend } from '../../src/delivery/http-send.js';
import { webhookSignature } from '../../src/delivery/message-formats.js';
import { DeliverySender } from '../../src/delivery/sender.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { deliveryRows, taskWithHeldAllocation } from '../helpers/delivery-seed.js';
import { startReceiver, type Answer, type Receiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/wait.js';

const stores: Store[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function setUp(url: string, answer: (index: number) => Answer, settings: Record<string, unknown> = {}) {
  const config = loadConfig({
    env: {},
    overrides: {
      'database.url': url,
      'delivery.batch_seconds': 0,
      'delivery.retry_backoff_seconds': 0,
      'delivery.max_attempts': 3,
      'delivery.timeout_seconds': 1,
      'delivery.lease_seconds': 2,
      ...settings,
    },
  });
  const store = await openStore(config);
  stores.push(store);
  await store.migrate();
  const receiver = await startReceiver((_request, index) => answer(index));
  receivers.push(receiver);
  const metrics = new Metrics(store, 180);
  const sender = new DeliverySender(store, config.delivery, createHttpSend(), pino({ level: 'silent' }), metrics);
  return { store, receiver, sender, metrics };
}

/** Runs sender passes until the delivery reaches a final state; retries are due at once (backoff 0). */
async function sendUntilFinal(sender: DeliverySender, store: Store, taskId: string) {
  return waitFor('the delivery to end delivered or failed', async () => {
    await sender.runOnce();
    const [row] = await deliveryRows(store, taskId);
    return row && (row.status === 'delivered' || row.status === 'failed') ? row : undefined;
  });
}

describeEachStore('delivery sender', (dialect) => {
  it('500, 500, 200: the receiver gets the same delivery id three times, signed, and the delivery ends delivered', async () => {
    const answers: Answer[] = [
      { status: 500, body: 'oops' },
      { status: 500, body: 'oops' },
      { status: 200, body: 'ok' },
    ];
    const { store, receiver, sender, metrics } = await setUp(
      await dialect.createDatabase(),
      (i) => answers[i] ?? { status: 200 },
    );
    const work = await taskWithHeldAllocation(store, `${receiver.url}/hook`, {
      template:
        '{"titles": [{% for a in articles %}"{{ a.id }}"{% unless forloop.last %},{% endunless %}{% endfor %}]}',
      secret: 'task-secret',
    });
    await work.upload(work.articles(2));
    const row = await sendUntilFinal(sender, store, work.taskId);
    expect(row).toMatchObject({ status: 'delivered', attempt: 3, last_status_code: 200 });
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.deliveryId))).toEqual(new Set([row.id]));
    for (const request of receiver.received) {
      expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(request.body)).toEqual({
        titles: work
          .articles(2)
          .map((a) => a.id)
          .sort()
          .reverse(),
      });
      const timestamp = String(request.headers['x-cascade-timestamp']);
      expect(request.headers['x-cascade-signature']).toBe(webhookSignature('task-secret', timestamp, request.body));
      expect(request.headers['x-task-header']).toBe('secret-header'); // the task's extra headers
    }
    const exposed = await metrics.registry.metrics();
    expect(exposed).toContain('cascade_deliveries_total{outcome="retried"} 2');
    expect(exposed).toContain('cascade_deliveries_total{outcome="delivered"} 1');
    expect(exposed).toMatch(/cascade_delivery_latency_seconds_count 1/);
    expect(exposed).toContain('cascade_deliveries{status="delivered"} 1');
  });

  it('a receiver that never answers: failed after max_attempts, with the last error kept', async () => {
    const { store, receiver, sender } = await setUp(await dialect.createDatabase(), () => 'hang', {
      'delivery.max_attempts': 2,
    });
    const work = await taskWithHeldAllocation(store, `${receiver.url}/hook`);
    await work.upload(work.articles(1));
    const row = await sendUntilFinal(sender, store, work.taskId);
    expect(row).toMatchObject({ status: 'failed', attempt: 2, last_status_code: null });
    expect(row.last_error).toMatch(/no answer within 1000 ms/);
    expect(receiver.received).toHaveLength(2);
  });

  it('429 with Retry-After waits at least that long; a 400 fails at once with the answer kept', async () => {
    const { store, receiver, sender } = await setUp(await dialect.createDatabase(), (i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 400, body: 'bad payload' },
    );
    const work = await taskWithHeldAllocation(store, `${receiver.url}/hook`);
    await work.upload(work.articles(1));
    const before = Date.now();
    await sender.runOnce();
    const [waiting] = await deliveryRows(store, work.taskId);
    expect(waiting).toMatchObject({ status: 'pending', attempt: 1, last_status_code: 429 });
    expect(Number(waiting?.available_at)).toBeGreaterThanOrEqual(before + 120_000);
    expect(await sender.runOnce()).toBe(0); // not due yet
    await sender.runOnce(Date.now() + 121_000);
    const [failed] = await deliveryRows(store, work.taskId);
    expect(failed).toMatchObject({ status: 'failed', attempt: 2, last_status_code: 400, last_response: 'bad payload' });
  });

  it('a delivery left sending by a stopped sender is sent again after its lease, with the same id', async () => {
    const { store, receiver, sender } = await setUp(await dialect.createDatabase(), () => ({ status: 200 }));
    const work = await taskWithHeldAllocation(store, `${receiver.url}/hook`);
    await work.upload(work.articles(1));
    // Another sender claims it and dies before answering.
    const [lost] = await store.deliveries.claim(1, 2_000, Date.now());
    expect(await sender.runOnce()).toBe(0); // its lease still holds
    await sender.runOnce(Date.now() + 3_000);
    const [row] = await deliveryRows(store, work.taskId);
    expect(row).toMatchObject({ id: lost?.id, status: 'delivered', attempt: 2 });
    expect(receiver.received.map((r) => r.deliveryId)).toEqual([lost?.id]);
    // The dead sender's late answer cannot overwrite the outcome.
    expect(
      await store.deliveries.markFailed(lost!, { statusCode: 500, response: null, error: 'late' }, Date.now()),
    ).toBe(false);
  });
});
