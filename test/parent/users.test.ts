import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import type { UserView } from '../../src/store/users.js';
import { api } from '../helpers/http.js';
import { ADMIN, capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

type Page<T> = { list: T[]; total: number };

describeEachStore('user management', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
  });
  afterAll(async () => t?.close());

  const login = (username: string, password: string) =>
    api<{ access_token: string }>(t.url, '/api/v1/auth/login', { json: { username, password } });
  const adminId = async () => (await t.parent.services.store.users.findByUsername(ADMIN.username))?.id ?? '';

  it('creates users who can log in, and never returns a password or its hash', async () => {
    const password = 'viewer-password-1';
    const created = await api<UserView>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'vera', password, role: 'viewer' },
    });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ username: 'vera', role: 'viewer', is_active: true });
    expect((await login('vera', password)).status).toBe(200);

    const responses = [
      created,
      await api(t.url, '/api/v1/users', { token: t.adminToken }),
      await api(t.url, `/api/v1/users/${created.body.data.id}`, { token: t.adminToken }),
    ];
    for (const response of responses) {
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(password);
      expect(text).not.toContain('scrypt');
      expect(text).not.toContain('password_hash');
    }
    expect(capturedLogs.join('')).not.toContain(password);
  });

  it('refuses a duplicate username with 409 and a password shorter than 8 with 400', async () => {
    const duplicate = await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'vera', password: 'another-password', role: 'admin' },
    });
    expect(duplicate.status).toBe(409);
    const short = await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'shorty', password: '1234567', role: 'viewer' },
    });
    expect(short.status).toBe(400);
    expect(short.body.details?.[0]?.path).toBe('password');
  });

  it('changes a password (the old one stops working), role and active flag', async () => {
    const created = await api<UserView>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'paul', password: 'first-password', role: 'viewer' },
    });
    const id = created.body.data.id;
    const changed = await api<UserView>(t.url, `/api/v1/users/${id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { password: 'second-password', role: 'admin' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.data.role).toBe('admin');
    expect((await login('paul', 'first-password')).status).toBe(401);
    const relogin = await login('paul', 'second-password');
    expect(relogin.status).toBe(200);
    // Paul is an admin now: he may list users.
    expect((await api(t.url, '/api/v1/users', { token: relogin.body.data.access_token })).status).toBe(200);

    const disabled = await api<UserView>(t.url, `/api/v1/users/${id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { is_active: false },
    });
    expect(disabled.body.data.is_active).toBe(false);
    expect((await api(t.url, '/api/v1/feeds', { token: relogin.body.data.access_token })).status).toBe(401);
    expect((await api(t.url, `/api/v1/users/${id}`, { method: 'DELETE', token: t.adminToken })).status).toBe(200);
    expect((await api(t.url, `/api/v1/users/${id}`, { token: t.adminToken })).status).toBe(404);
  });

  it('refuses to delete, demote or disable the last active admin, and changes nothing', async () => {
    const id = await adminId();
    const before = await api<Page<UserView>>(t.url, '/api/v1/users', { token: t.adminToken });
    for (const [method, json] of [
      ['DELETE', undefined],
      ['PUT', { role: 'viewer' }],
      ['PUT', { is_active: false }],
    ] as const) {
      const response = await api(t.url, `/api/v1/users/${id}`, {
        method,
        token: t.adminToken,
        ...(json ? { json } : {}),
      });
      expect(response.status).toBe(409);
      expect(response.body.error).toBe('CONFLICT');
      expect(response.body.message).toMatch(/last active admin/);
    }
    const after = await api<Page<UserView>>(t.url, '/api/v1/users', { token: t.adminToken });
    expect(after.body.data).toEqual(before.body.data);
  });

  it('allows demoting an admin once another active admin exists', async () => {
    const other = await api<UserView>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'second-admin', password: 'second-admin-pw', role: 'admin' },
    });
    const otherToken = (await login('second-admin', 'second-admin-pw')).body.data.access_token;
    const demoted = await api<UserView>(t.url, `/api/v1/users/${await adminId()}`, {
      method: 'PUT',
      token: otherToken,
      json: { role: 'viewer' },
    });
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.role).toBe('viewer');
    // Now second-admin is the last one.
    const refused = await api(t.url, `/api/v1/users/${other.body.data.id}`, { method: 'DELETE', token: otherToken });
    expect(refused.status).toBe(409);
    const restored = await api<UserView>(t.url, `/api/v1/users/${await adminId()}`, {
      method: 'PUT',
      token: otherToken,
      json: { role: 'admin' },
    });
    expect(restored.body.data.role).toBe('admin');
  });
});
