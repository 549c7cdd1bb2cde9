import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/secrets.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startParent, type Parent } from '../../src/parent/parent.js';
import { api } from '../helpers/http.js';
import { ADMIN, startTestParent, type TestParent } from '../helpers/parent.js';
import { httpsCall, writeSelfSigned } from '../helpers/self-signed.js';

describe('native HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-tls-'));
  let parent: Parent | undefined;
  afterEach(async () => {
    await parent?.close();
    parent = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A parent over SQLite with its admin user; the test helper's fetch would not trust a self-signed certificate. */
  async function startTlsParent(tls: Record<string, string>): Promise<Parent> {
    const config = loadConfig({
      env: {},
      overrides: {
        host: '127.0.0.1',
        port: 0,
        'database.url': `sqlite:${join(dir, 'tls.db')}`,
        'scheduler.enabled': false,
        ...tls,
      },
    });
    const started = await startParent(config, createLogger('silent'));
    if (!(await started.services.store.users.findByUsername(ADMIN.username))) {
      await started.services.store.users.create({
        username: ADMIN.username,
        passwordHash: await hashPassword(ADMIN.password),
        role: 'admin',
      });
    }
    return started;
  }

  it('serves the API over HTTPS with server.tls, and a reload presents the renewed certificate to new connections', async () => {
    const first = writeSelfSigned(dir);
    parent = await startTlsParent({ 'server.tls.cert': first.cert, 'server.tls.key': first.key });
    expect(parent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsCall(`${parent.url}/healthz`, first.pem);
    expect(health).toMatchObject({ status: 200, fingerprint: first.fingerprint });
    const login = await httpsCall(`${parent.url}/api/v1/auth/login`, first.pem, {
      method: 'POST',
      body: JSON.stringify(ADMIN),
    });
    expect(login.status).toBe(200);

    const renewed = writeSelfSigned(dir);
    expect(renewed.fingerprint).not.toBe(first.fingerprint);
    expect(parent.reloadTls()).toBe(true);
    expect(await httpsCall(`${parent.url}/healthz`, renewed.pem)).toMatchObject({
      status: 200,
      fingerprint: renewed.fingerprint,
    });
    await expect(httpsCall(`${parent.url}/healthz`, first.pem)).rejects.toThrow();
  });

  it('refuses a cert without a key at start', async () => {
    const pair = writeSelfSigned(dir, 'lonely');
    await expect(startTlsParent({ 'server.tls.cert': pair.cert })).rejects.toThrow(/server\.tls: set both/);
  });
});

describe('/metrics is open to loopback clients only, unless metrics.token is set', () => {
  let t: TestParent | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('without a token: a loopback client reads it, a client behind a trusted proxy is refused', async () => {
    t = await startTestParent({ overrides: { 'server.trust_proxy': ['127.0.0.1'] } });
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
    const remote = await api(t.url, '/metrics', { headers: { 'x-forwarded-for': '203.0.113.5' } });
    expect(remote.status).toBe(403);
    expect(remote.body).toMatchObject({ code: 403, error: 'FORBIDDEN', data: null });
  });

  it('with metrics.token: any client with the bearer token reads it, without it gets 401', async () => {
    t = await startTestParent({
      overrides: { 'server.trust_proxy': ['127.0.0.1'], 'metrics.token': 'scrape-token-0123456789' },
    });
    const remote = { 'x-forwarded-for': '203.0.113.5' };
    expect((await api(t.url, '/metrics', { headers: remote })).status).toBe(401);
    const scraped = await fetch(`${t.url}/metrics`, {
      headers: { ...remote, authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('# HELP');
  });
});
