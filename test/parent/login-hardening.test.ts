import { afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/secrets.js';
import { api } from '../helpers/http.js';
import { ADMIN, capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

const login = (t: TestParent, username: string, password: string, forwardedFor?: string) =>
  api(t.url, '/api/v1/auth/login', {
    json: { username, password },
    ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
  });

describe('login limits behind a proxy and across addresses', () => {
  let t: TestParent | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('with server.trust_proxy naming the proxy, one client locked out does not lock out another client behind it', async () => {
    t = await startTestParent({ overrides: { 'server.trust_proxy': ['127.0.0.1'] } });
    for (let i = 0; i < t.config.auth.login_max_failures; i += 1)
      expect((await login(t, ADMIN.username, `wrong-${i}`, '203.0.113.10')).status).toBe(401);
    expect((await login(t, ADMIN.username, ADMIN.password, '203.0.113.10')).status).toBe(429);
    // Another client of the same proxy is another address: the owner still logs in.
    expect((await login(t, ADMIN.username, ADMIN.password, '198.51.100.20')).status).toBe(200);
  });

  it('without trust_proxy, X-Forwarded-For is ignored: a client cannot dodge its limit by making addresses up', async () => {
    t = await startTestParent();
    for (let i = 0; i < t.config.auth.login_max_failures; i += 1)
      expect((await login(t, ADMIN.username, `wrong-${i}`, `203.0.113.${i}`)).status).toBe(401);
    expect((await login(t, ADMIN.username, ADMIN.password, '198.51.100.99')).status).toBe(429);
  });

  it('100 guesses on one username from 20 addresses: only account_free_failures are evaluated, and the lockout is logged', async () => {
    t = await startTestParent({ overrides: { 'server.trust_proxy': ['127.0.0.1/8'] } });
    const logsBefore = capturedLogs.length;
    const statuses: number[] = [];
    for (let guess = 0; guess < 100; guess += 1)
      statuses.push((await login(t, ADMIN.username, `guess-${guess}`, `192.0.2.${guess % 20}`)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(t.config.auth.account_free_failures);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100 - t.config.auth.account_free_failures);
    const lockouts = capturedLogs
      .slice(logsBefore)
      .filter((line) => line.includes('login lockout started'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lockouts).toEqual([
      expect.objectContaining({
        username: ADMIN.username,
        client_ip: '192.0.2.9',
        scope: 'username',
        retry_after_seconds: 4,
      }),
    ]);
  });
});

describe('usernames cannot be told apart by the cost of a login', () => {
  let t: TestParent | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('an unknown or disabled user costs one password hash, as a known user with a wrong password does', async () => {
    let hashes = 0;
    t = await startTestParent({
      start: {
        verifyPassword: (password, stored) => {
          hashes += 1;
          return verifyPassword(password, stored);
        },
      },
    });
    const created = await api<{ id: string }>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'sleeper', password: 'sleeper-password', role: 'viewer' },
    });
    await api(t.url, `/api/v1/users/${created.body.data.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { is_active: false },
    });
    const cost = async (username: string, password: string) => {
      const before = hashes;
      const response = await login(t!, username, password);
      return { status: response.status, hashes: hashes - before };
    };
    expect(await cost(ADMIN.username, 'wrong-password')).toEqual({ status: 401, hashes: 1 });
    expect(await cost('nobody-by-this-name', 'wrong-password')).toEqual({ status: 401, hashes: 1 });
    expect(await cost('sleeper', 'sleeper-password')).toEqual({ status: 401, hashes: 1 });
    expect(await cost(ADMIN.username, ADMIN.password)).toEqual({ status: 200, hashes: 1 });
  });
});
