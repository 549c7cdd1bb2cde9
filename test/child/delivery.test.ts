import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Delivery } from '../../src/child/delivery.js';
import { Outbox } from '../../src/child/outbox.js';
import { ParentClient, ParentRejection, ParentUnreachable } from '../../src/child/parent-client.js';

/** A real HTTP server that records what reached it and answers with a chosen status. */
type Recorder = {
  url: string;
  received: Array<{ path: string; body: unknown; auth: string | undefined }>;
  status: number;
  code: string;
  /** Bodies with one of these allocation ids get 409 LEASE_LOST. */
  lost: Set<string>;
  close(): Promise<void>;
};

const servers: Server[] = [];
const dirs: string[] = [];
const logger = pino({ level: 'silent' });
const KEY = `CN${'k'.repeat(32)}`;
const SECRET = `CS${'s'.repeat(32)}`;

async function startRecorder(): Promise<Recorder> {
  const recorder = { received: [], status: 200, code: '', lost: new Set<string>() } as unknown as Recorder;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as { allocation_id?: string }) : undefined;
      recorder.received.push({ path: req.url ?? '', body, auth: req.headers.authorization });
      const lost = body?.allocation_id !== undefined && recorder.lost.has(body.allocation_id);
      const status = lost ? 409 : recorder.status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status < 400
            ? { code: 0, message: 'ok', data: { received: 1, new_count: 1 } }
            : { code: status, message: 'nope', data: null, error: lost ? 'LEASE_LOST' : recorder.code },
        ),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  recorder.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return recorder;
}

/** A URL nothing listens on (a closed server's port). */
async function deadUrl(): Promise<string> {
  const recorder = await startRecorder();
  await recorder.close();
  return recorder.url;
}

const fastRetry = { attempts: 2, baseMs: 5, maxMs: 10 };
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openOutbox(): { outbox: Outbox; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-delivery-'));
  dirs.push(dir);
  return { outbox: new Outbox(dir), dir };
}

describe('parent client', () => {
  it('authenticates with AK-SK and fails over to the next parent when one does not answer', async () => {
    const live = await startRecorder();
    const client = new ParentClient({
      urls: [await deadUrl(), live.url],
      apiKey: KEY,
      apiSecret: SECRET,
      logger,
      signing: 'off',
    });
    await client.request('POST', '/heartbeat', { body: {}, retry: fastRetry });
    expect(live.received).toEqual([{ path: '/api/v1/cascade/heartbeat', body: {}, auth: `AK-SK ${KEY}:${SECRET}` }]);
    expect(client.currentUrl).toBe(live.url);
  });

  it('does not retry a 409 LEASE_LOST, and gives up on 503 after the retry policy', async () => {
    const parent = await startRecorder();
    const client = new ParentClient({ urls: [parent.url], apiKey: KEY, apiSecret: SECRET, logger });
    parent.status = 409;
    parent.code = 'LEASE_LOST';
    const rejection = await client
      .request('POST', '/report-completion', { body: {}, retry: fastRetry })
      .catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(ParentRejection);
    expect((rejection as ParentRejection).leaseGone).toBe(true);
    expect(parent.received).toHaveLength(1);
    parent.status = 503;
    await expect(client.request('POST', '/report-completion', { body: {}, retry: fastRetry })).rejects.toBeInstanceOf(
      ParentUnreachable,
    );
    expect(parent.received).toHaveLength(3);
  });
});

describe('delivery through the outbox', () => {
  it('parks calls while the parent is down and replays them in order, also after a restart', async () => {
    const url = await deadUrl();
    const { outbox, dir } = openOutbox();
    const down = new Delivery(
      new ParentClient({ urls: [url], apiKey: KEY, apiSecret: SECRET, logger }),
      outbox,
      logger,
    );
    const calls = ['/task-status', '/upload-articles', '/report-completion'].map((path, i) => ({
      method: 'POST' as const,
      path,
      allocationId: 'A1',
      body: { n: i },
    }));
    expect((await down.send(calls[0] as (typeof calls)[number])).kind).toBe('queued');
    // Once something is parked, later calls queue behind it without trying, to keep the order.
    expect((await down.send(calls[1] as (typeof calls)[number])).kind).toBe('queued');
    expect((await down.send(calls[2] as (typeof calls)[number])).kind).toBe('queued');
    expect(await down.flush()).toBe(false);
    outbox.close();

    const parent = await startRecorder();
    const reopened = new Outbox(dir);
    const up = new Delivery(
      new ParentClient({ urls: [parent.url], apiKey: KEY, apiSecret: SECRET, logger }),
      reopened,
      logger,
    );
    expect(await up.flush()).toBe(true);
    expect(parent.received.map((r) => [r.path, r.body])).toEqual([
      ['/api/v1/cascade/task-status', { n: 0 }],
      ['/api/v1/cascade/upload-articles', { n: 1 }],
      ['/api/v1/cascade/report-completion', { n: 2 }],
    ]);
    expect(reopened.size()).toBe(0);
    reopened.close();
  });

  it('drops the rest of an allocation when the parent says its lease is gone, and keeps other allocations', async () => {
    const parent = await startRecorder();
    const { outbox } = openOutbox();
    outbox.enqueue({
      method: 'POST',
      path: '/upload-articles',
      allocationId: 'LOST',
      body: { allocation_id: 'LOST', n: 1 },
    });
    outbox.enqueue({
      method: 'POST',
      path: '/report-completion',
      allocationId: 'LOST',
      body: { allocation_id: 'LOST', n: 2 },
    });
    outbox.enqueue({
      method: 'POST',
      path: '/report-completion',
      allocationId: 'KEPT',
      body: { allocation_id: 'KEPT', n: 3 },
    });
    const delivery = new Delivery(
      new ParentClient({ urls: [parent.url], apiKey: KEY, apiSecret: SECRET, logger }),
      outbox,
      logger,
    );
    parent.lost.add('LOST');
    expect(await delivery.flush()).toBe(true);
    // The second LOST call is never sent; KEPT is delivered.
    expect(parent.received.map((r) => r.body)).toEqual([
      { allocation_id: 'LOST', n: 1 },
      { allocation_id: 'KEPT', n: 3 },
    ]);
    outbox.close();
  });
});
