import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.js';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';
import { waitFor } from '../helpers/wait.js';

const SLOW_CLIENTS = 30;

/** A client that sends a login's headers and one byte of its 1,000-byte body, then nothing (slowloris). */
function slowLogin(url: URL): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(
        `POST /api/v1/auth/login HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      );
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

describe('the parent bounds slow and idle connections (slowloris)', () => {
  let t: TestParent | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await t?.close();
    t = undefined;
  });

  it('closes requests that never finish after request_timeout_seconds, while /healthz answers and a longer long-poll claim still works', async () => {
    t = await startTestParent({
      overrides: { 'server.request_timeout_seconds': 1, 'server.headers_timeout_seconds': 1 },
    });
    const url = new URL(t.url);
    const slow = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => slowLogin(url)));
    sockets.push(...slow.map((s) => s.socket));
    const child = await t.addChild('slowloris-child');

    // A long-poll longer than the request timeout: its wait starts once the request has arrived, so it is not cut.
    const claimStarted = Date.now();
    const claim = api(t.url, '/api/v1/cascade/claim-task?wait=2.5', { method: 'POST', aksk: child });
    expect((await api(t.url, '/healthz')).status).toBe(200);

    const answers = await Promise.all(slow.map((s) => s.closed));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse((answers[0] ?? '').slice((answers[0] ?? '').indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 408,
      data: null,
      error: 'REQUEST_TIMEOUT',
    });
    expect((await api(t.url, '/healthz')).status).toBe(200);

    const claimed = await claim;
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ code: 0, data: null, message: 'No work.' });
    // The claim really waited past the 1 s request timeout (counted, not a performance limit).
    expect(Date.now() - claimStarted).toBeGreaterThanOrEqual(2400);
  });

  it('closes a connection that sends no headers at all after headers_timeout_seconds', async () => {
    t = await startTestParent({
      overrides: { 'server.request_timeout_seconds': 2, 'server.headers_timeout_seconds': 1 },
    });
    const url = new URL(t.url);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    sockets.push(socket);
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 408,
      data: null,
      error: 'REQUEST_TIMEOUT',
    });
  });

  it('refuses connections past server.max_connections, logs it at most once a minute, and serves again when they close', async () => {
    t = await startTestParent({ overrides: { 'server.max_connections': 5 } });
    const url = new URL(t.url);
    const logsBefore = capturedLogs.length;
    const held: Socket[] = [];
    for (let i = 0; i < 5; i += 1) {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      held.push(socket);
    }
    sockets.push(...held);
    // Each further connection is accepted by the kernel and closed by the parent at once.
    for (let i = 0; i < 3; i += 1) {
      const extra = connect({ host: url.hostname, port: Number(url.port) });
      sockets.push(extra);
      extra.on('error', () => undefined);
      extra.resume();
      await new Promise<void>((resolve) => extra.once('close', () => resolve()));
    }
    const drops = () =>
      capturedLogs.slice(logsBefore).filter((line) => line.includes('server.max_connections reached'));
    await waitFor('the refusal to be logged', () => (drops().length > 0 ? true : undefined), 5000);
    expect(drops()).toHaveLength(1);
    for (const socket of held) socket.destroy();
    await waitFor(
      'the parent to serve again',
      async () => ((await api(t!.url, '/healthz').catch(() => undefined))?.status === 200 ? true : undefined),
      5000,
    );
  });
});
