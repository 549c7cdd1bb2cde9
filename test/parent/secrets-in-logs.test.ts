import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

/** Runs every flow that carries a secret, at the most verbose log level, then searches every captured log line. */
describeEachStore('no secret reaches a log line', (dialect) => {
  let t: TestParent;
  const secrets: string[] = [];
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase(), overrides: { log_level: 'trace' } });
  });
  afterAll(async () => t?.close());

  it('exercises node credentials, user passwords, logins and task cookies', async () => {
    const child = await t.addChild('log-child');
    secrets.push(child.api_secret);
    expect((await api(t.url, '/api/v1/cascade/feeds', { aksk: child })).status).toBe(200);
    expect(
      (await api(t.url, '/api/v1/cascade/feeds', { aksk: { ...child, api_secret: `CS${'w'.repeat(32)}` } })).status,
    ).toBe(401);

    const rotated = await api<{ api_key: string; api_secret: string }>(
      t.url,
      `/api/v1/cascade/nodes/${child.id}/credentials`,
      { method: 'POST', token: t.adminToken },
    );
    secrets.push(rotated.body.data.api_secret);
    expect(
      (
        await api(t.url, '/api/v1/cascade/report-result', {
          aksk: rotated.body.data,
          json: { task_id: 't', results: [] },
        })
      ).status,
    ).toBe(200);
    expect((await api(t.url, '/api/v1/cascade/feeds', { aksk: child })).status).toBe(401);

    const password = 'log-user-password-1';
    const newPassword = 'log-user-password-2';
    const wrongPassword = 'log-user-wrong-password';
    secrets.push(password, newPassword, wrongPassword);
    const user = await api<{ id: string }>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'log-user', password, role: 'viewer' },
    });
    expect((await api(t.url, '/api/v1/auth/login', { json: { username: 'log-user', password } })).status).toBe(200);
    expect(
      (await api(t.url, '/api/v1/auth/login', { json: { username: 'log-user', password: wrongPassword } })).status,
    ).toBe(401);
    const form = new URLSearchParams({ username: 'log-user', password }).toString();
    expect(
      (await api(t.url, '/api/v1/wx/auth/login', { rawBody: form, contentType: 'application/x-www-form-urlencoded' }))
        .status,
    ).toBe(200);
    expect(
      (
        await api(t.url, `/api/v1/users/${user.body.data.id}`, {
          method: 'PUT',
          token: t.adminToken,
          json: { password: newPassword },
        })
      ).status,
    ).toBe(200);
    // A rejected body must not be echoed into the log either.
    expect(
      (
        await api(t.url, '/api/v1/users', {
          token: t.adminToken,
          json: { username: 'x', password: wrongPassword, role: 'root' },
        })
      ).status,
    ).toBe(400);

    secrets.push(t.adminToken);
    expect(capturedLogs.length).toBeGreaterThan(10);
    const logs = capturedLogs.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('sha256:');
    expect(logs).not.toContain('scrypt$');
  });
});
