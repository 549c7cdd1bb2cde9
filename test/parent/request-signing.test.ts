import { createServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedAuthorization } from '../../src/auth/request-signature.js';
import { NO_RETRY, ParentClient, ParentRejection } from '../../src/child/parent-client.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { databaseOf } from '../../src/store/store.js';

type Child = { id: string; api_key: string; api_secret: string };

/** A signed POST with a JSON body, exactly as a child would send it; `tamper` changes what goes out after signing. */
async function signedPost(
  baseUrl: string,
  path: string,
  child: Child,
  body: unknown,
  tamper: { body?: string; path?: string; nowMs?: number; header?: string } = {},
) {
  const text = JSON.stringify(body);
  const header =
    tamper.header ?? signedAuthorization(child.api_key, child.api_secret, 'POST', path, text, tamper.nowMs);
  const response = await api(baseUrl, tamper.path ?? path, {
    rawBody: tamper.body ?? text,
    contentType: 'application/json',
    headers: { authorization: header },
  });
  return { response, header };
}

const lastHeartbeat = async (t: TestParent, id: string) =>
  (await t.parent.services.store.nodes.get(id)).lastHeartbeatAtMs ?? 0;

/** Every column of the node's row, secrets included: a refused request must change none of them. */
const nodeRow = async (t: TestParent, id: string) =>
  databaseOf(t.parent.services.store).selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('signed child requests (AK-SK-HMAC)', () => {
  let t: TestParent;
  let child: Child;
  beforeAll(async () => {
    t = await startTestParent();
    child = await t.addChild('signer');
  });
  afterAll(async () => t?.close());

  it('accepts a signed request on both API prefixes', async () => {
    for (const prefix of ['/api/v1/cascade', '/api/v1/wx/cascade']) {
      const { response } = await signedPost(t.url, `${prefix}/heartbeat`, child, { hostname: 'signed-host' });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.data).toMatchObject({ node_id: child.id });
    }
    const feeds = await api(t.url, '/api/v1/cascade/feeds?limit=5', {
      headers: {
        authorization: signedAuthorization(
          child.api_key,
          child.api_secret,
          'GET',
          '/api/v1/cascade/feeds?limit=5',
          undefined,
        ),
      },
    });
    expect(feeds.status).toBe(200);
  });

  it('refuses a replayed request (same nonce) with NONCE_REUSED and changes nothing', async () => {
    const { response, header } = await signedPost(t.url, '/api/v1/cascade/heartbeat', child, { hostname: 'first' });
    expect(response.status).toBe(200);
    const before = await nodeRow(t, child.id);
    await new Promise((r) => setTimeout(r, 5));
    const replay = await signedPost(t.url, '/api/v1/cascade/heartbeat', child, { hostname: 'first' }, { header });
    expect(replay.response.status).toBe(401);
    expect(replay.response.body.error).toBe('NONCE_REUSED');
    expect(await nodeRow(t, child.id)).toEqual(before);
  });

  it('refuses a stale or future timestamp with SIGNATURE_EXPIRED and records nothing', async () => {
    const before = await lastHeartbeat(t, child.id);
    for (const skew of [-301_000, 301_000]) {
      const { response } = await signedPost(
        t.url,
        '/api/v1/cascade/heartbeat',
        child,
        {},
        { nowMs: Date.now() + skew },
      );
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('SIGNATURE_EXPIRED');
    }
    expect(await lastHeartbeat(t, child.id)).toBe(before);
  });

  it('refuses a tampered body, path or query with SIGNATURE_INVALID', async () => {
    const before = await nodeRow(t, child.id);
    const body = await signedPost(
      t.url,
      '/api/v1/cascade/heartbeat',
      child,
      { hostname: 'honest' },
      { body: JSON.stringify({ hostname: 'forged' }) },
    );
    expect(body.response.status).toBe(401);
    expect(body.response.body.error).toBe('SIGNATURE_INVALID');
    const path = await signedPost(
      t.url,
      '/api/v1/cascade/heartbeat',
      child,
      {},
      { path: '/api/v1/wx/cascade/heartbeat' },
    );
    expect(path.response.body.error).toBe('SIGNATURE_INVALID');
    const query = await signedPost(
      t.url,
      '/api/v1/cascade/claim-task?wait=0&max=1',
      child,
      {},
      { path: '/api/v1/cascade/claim-task?wait=0&max=5' },
    );
    expect(query.response.status).toBe(401);
    expect(query.response.body.error).toBe('SIGNATURE_INVALID');
    const wrongSecret = await signedPost(
      t.url,
      '/api/v1/cascade/heartbeat',
      { ...child, api_secret: `CS${'x'.repeat(32)}` },
      {},
    );
    expect(wrongSecret.response.body.error).toBe('SIGNATURE_INVALID');
    const malformed = await signedPost(
      t.url,
      '/api/v1/cascade/heartbeat',
      child,
      {},
      { header: 'AK-SK-HMAC key=abc, ts=1' },
    );
    expect(malformed.response.status).toBe(401);
    expect(malformed.response.body.error).toBe('SIGNATURE_INVALID');
    expect(await nodeRow(t, child.id)).toEqual(before);
  });

  it('a node with require_signed refuses the plain header, and accepts signed requests', async () => {
    const strict = await t.addChild('strict');
    const plainOk = await api(t.url, '/api/v1/cascade/heartbeat', { aksk: strict, json: {} });
    expect(plainOk.status).toBe(200);
    const put = await api(t.url, `/api/v1/cascade/nodes/${strict.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { require_signed: true },
    });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ require_signed: true, signing_available: true });
    const before = await lastHeartbeat(t, strict.id);
    const plain = await api(t.url, '/api/v1/cascade/heartbeat', { aksk: strict, json: {} });
    expect(plain.status).toBe(401);
    expect(plain.body.error).toBe('SIGNED_REQUEST_REQUIRED');
    expect(await lastHeartbeat(t, strict.id)).toBe(before);
    const signed = await signedPost(t.url, '/api/v1/cascade/heartbeat', strict, {});
    expect(signed.response.status).toBe(200);
  });

  it('a node from before signing (no sealed secret) gets SIGNING_UNAVAILABLE, keeps the plain header, and signs after rotation', async () => {
    const old = await t.addChild('pre-010');
    await databaseOf(t.parent.services.store)
      .updateTable('nodes')
      .set({ api_secret_sealed: null })
      .where('id', '=', old.id)
      .execute();
    const signed = await signedPost(t.url, '/api/v1/cascade/heartbeat', old, {});
    expect(signed.response.status).toBe(401);
    expect(signed.response.body.error).toBe('SIGNING_UNAVAILABLE');
    expect((await api(t.url, '/api/v1/cascade/heartbeat', { aksk: old, json: {} })).status).toBe(200);

    // Cascade's child in auto mode falls back to the plain header; with `always` it refuses to.
    const logger = pino({ level: 'silent' });
    const auto = new ParentClient({ urls: [t.url], apiKey: old.api_key, apiSecret: old.api_secret, logger });
    await auto.request('POST', '/heartbeat', { body: {}, retry: NO_RETRY });
    expect(auto.signs).toBe(false);
    const always = new ParentClient({
      urls: [t.url],
      apiKey: old.api_key,
      apiSecret: old.api_secret,
      logger,
      signing: 'always',
    });
    const refused = await always.request('POST', '/heartbeat', { body: {}, retry: NO_RETRY }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParentRejection);
    expect((refused as ParentRejection).code).toBe('SIGNING_UNAVAILABLE');

    const rotated = await api<Child>(t.url, `/api/v1/cascade/nodes/${old.id}/credentials`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(rotated.body.data).toMatchObject({ signing_available: true });
    expect(
      (await signedPost(t.url, '/api/v1/cascade/heartbeat', { ...rotated.body.data, id: old.id }, {})).response.status,
    ).toBe(200);
  });

  it("never puts the secret on the wire: the bytes of Cascade's child's signed requests, retries included", async () => {
    const captured: Buffer[] = [];
    const target = new URL(t.url);
    const sockets: Array<{ destroy(): void }> = [];
    const proxy: Server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.push(client, upstream);
      client.on('data', (chunk: Buffer) => captured.push(chunk));
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const client = new ParentClient({
        urls: [url],
        apiKey: child.api_key,
        apiSecret: child.api_secret,
        logger: pino({ level: 'silent' }),
        signing: 'always',
      });
      // The same body twice (as the outbox re-sends) and a long-poll claim: each one a new nonce.
      await client.request('POST', '/heartbeat', { body: { hostname: 'wire' }, retry: NO_RETRY });
      await client.request('POST', '/heartbeat', { body: { hostname: 'wire' }, retry: NO_RETRY });
      await client.request('POST', '/claim-task', {
        query: { wait: 1, max: 1 },
        retry: NO_RETRY,
        extraTimeoutMs: 2000,
      });
      await client.request('GET', '/feeds', { retry: NO_RETRY });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((ok) => proxy.close(ok));
    }
    const wire = Buffer.concat(captured).toString('latin1');
    const nonces = [
      ...wire.matchAll(/authorization: AK-SK-HMAC key=[^,]+, ts=\d+, nonce=([^,]+), sig=[0-9a-f]{64}/gi),
    ].map((m) => m[1]);
    expect(nonces).toHaveLength(4);
    expect(new Set(nonces).size).toBe(4);
    expect(wire).not.toContain(child.api_secret);
    expect(wire).not.toContain(child.api_secret.slice(2));
    expect(wire).not.toContain(Buffer.from(child.api_secret).toString('base64'));
  });
});
