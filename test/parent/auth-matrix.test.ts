import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { JwtSigner } from '../../src/auth/jwt.js';
import { jwtSecret } from '../../src/parent/parent-services.js';
import { api, type ApiOptions, type ApiResponse } from '../helpers/http.js';
import { ADMIN, startTestParent, type TestParent } from '../helpers/parent.js';

type Creds = { id: string; api_key: string; api_secret: string };

/** Changes one character in the middle of the signature (the last one may only carry padding bits). */
function tamper(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const at = Math.floor(signature.length / 2);
  const flipped = signature[at] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`;
}

describeEachStore('authorization matrix', (dialect) => {
  let t: TestParent;
  const tokens: Record<string, string> = {};
  const nodes = {} as { child: Creds; disabled: Creds; rotatedNew: Creds };
  let rotatedOld: Creds;

  const login = async (username: string, password: string) =>
    (await api<{ access_token: string }>(t.url, '/api/v1/auth/login', { json: { username, password } })).body.data
      .access_token;

  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    const { store } = t.parent.services;
    const admin = await store.users.findByUsername(ADMIN.username);
    if (!admin) throw new Error('no admin');

    await api(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'viewer', password: 'viewer-password', role: 'viewer' },
    });
    tokens.viewer = await login('viewer', 'viewer-password');
    const doomed = await api<{ id: string }>(t.url, '/api/v1/users', {
      token: t.adminToken,
      json: { username: 'doomed', password: 'doomed-password', role: 'admin' },
    });
    tokens.deleted = await login('doomed', 'doomed-password');
    await api(t.url, `/api/v1/users/${doomed.body.data.id}`, { method: 'DELETE', token: t.adminToken });

    const storeKey = await jwtSecret(t.config, store);
    const adminClaims = { id: admin.id, username: admin.username, role: 'admin' as const, tokenGeneration: 0 };
    tokens.expired = (await new JwtSigner(storeKey).sign(adminClaims, -120)).token;
    tokens.otherKey = (
      await new JwtSigner('a-completely-different-signing-key-0123456789').sign(adminClaims, 3600)
    ).token;
    tokens.tampered = tamper(t.adminToken);

    nodes.child = await t.addChild('matrix-child');
    nodes.disabled = await t.addChild('matrix-disabled');
    await api(t.url, `/api/v1/cascade/nodes/${nodes.disabled.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { is_active: false },
    });
    rotatedOld = await t.addChild('matrix-rotated');
    const rotated = await api<Creds>(t.url, `/api/v1/cascade/nodes/${rotatedOld.id}/credentials`, {
      method: 'POST',
      token: t.adminToken,
    });
    nodes.rotatedNew = rotated.body.data;
  });
  afterAll(async () => t?.close());

  const raw = (authorization: string): ApiOptions => ({ headers: { authorization } });
  type Case = { name: string; path: string; options: () => ApiOptions; status: number; error?: string };
  const cases: Case[] = [
    {
      name: 'no Authorization header',
      path: '/api/v1/feeds',
      options: () => ({}),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'garbage header',
      path: '/api/v1/feeds',
      options: () => raw('Basic Zm9vOmJhcg=='),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'Bearer with a non-JWT',
      path: '/api/v1/feeds',
      options: () => raw('Bearer not-a-jwt'),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'tampered JWT signature',
      path: '/api/v1/feeds',
      options: () => ({ token: tokens.tampered }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'expired JWT',
      path: '/api/v1/feeds',
      options: () => ({ token: tokens.expired }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'JWT signed with another key (rotated key)',
      path: '/api/v1/feeds',
      options: () => ({ token: tokens.otherKey }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'token of a deleted user',
      path: '/api/v1/feeds',
      options: () => ({ token: tokens.deleted }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    { name: 'viewer reads feeds', path: '/api/v1/feeds', options: () => ({ token: tokens.viewer }), status: 200 },
    {
      name: 'viewer reads sync logs',
      path: '/api/v1/cascade/sync-logs',
      options: () => ({ token: tokens.viewer }),
      status: 200,
    },
    {
      name: 'viewer creates a feed',
      path: '/api/v1/feeds',
      options: () => ({ token: tokens.viewer, json: { id: 'VIEWER_FEED' } }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'viewer deletes a task',
      path: '/api/v1/message-tasks/x',
      options: () => ({ token: tokens.viewer, method: 'DELETE' }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'viewer lists users',
      path: '/api/v1/users',
      options: () => ({ token: tokens.viewer }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'admin creates a feed',
      path: '/api/v1/feeds',
      options: () => ({ token: t.adminToken, json: { mp_name: 'admin feed' } }),
      status: 200,
    },
    { name: 'admin lists users', path: '/api/v1/users', options: () => ({ token: t.adminToken }), status: 200 },
    {
      name: 'node AK-SK on a management route',
      path: '/api/v1/feeds',
      options: () => ({ aksk: nodes.child }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'node AK-SK on /users',
      path: '/api/v1/users',
      options: () => ({ aksk: nodes.child }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'admin JWT on a child route',
      path: '/api/v1/cascade/feeds',
      options: () => ({ token: t.adminToken }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'viewer JWT on report-result',
      path: '/api/v1/cascade/report-result',
      options: () => ({ token: tokens.viewer, json: { task_id: 'x', results: [] } }),
      status: 403,
      error: 'FORBIDDEN',
    },
    {
      name: 'node reads its feeds',
      path: '/api/v1/cascade/feeds',
      options: () => ({ aksk: nodes.child }),
      status: 200,
    },
    {
      name: 'node with a wrong secret',
      path: '/api/v1/cascade/feeds',
      options: () => ({ aksk: { ...nodes.child, api_secret: `CS${'x'.repeat(32)}` } }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'unknown api_key',
      path: '/api/v1/cascade/feeds',
      options: () => ({ aksk: { api_key: `CN${'y'.repeat(32)}`, api_secret: nodes.child.api_secret } }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'AK-SK without a secret',
      path: '/api/v1/cascade/feeds',
      options: () => raw(`AK-SK ${nodes.child.api_key}`),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'disabled node',
      path: '/api/v1/cascade/message-tasks',
      options: () => ({ aksk: nodes.disabled }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'rotated node, old pair',
      path: '/api/v1/cascade/feeds',
      options: () => ({ aksk: rotatedOld }),
      status: 401,
      error: 'UNAUTHENTICATED',
    },
    {
      name: 'rotated node, new pair',
      path: '/api/v1/cascade/feeds',
      options: () => ({ aksk: nodes.rotatedNew }),
      status: 200,
    },
  ];

  it.each(cases)('$name → $status', async ({ path, options, status, error }) => {
    for (const prefixed of [path, path.replace('/api/v1/', '/api/v1/wx/')]) {
      const response: ApiResponse = await api(t.url, prefixed, options());
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      if (error) {
        expect(response.body).toMatchObject({ code: status, data: null, error });
        expect(response.body.message.length).toBeGreaterThan(10);
      } else {
        expect(response.body.code).toBe(0);
      }
    }
  });

  it('the matrix has at least 14 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(14);
  });

  it('says why a JWT was refused', async () => {
    expect((await api(t.url, '/api/v1/feeds', { token: tokens.expired })).body.message).toMatch(/expired/);
    expect((await api(t.url, '/api/v1/feeds', { token: tokens.tampered })).body.message).toMatch(/invalid/);
  });

  it('lets a disabled node back in once it is enabled again', async () => {
    await api(t.url, `/api/v1/cascade/nodes/${nodes.disabled.id}`, {
      method: 'PUT',
      token: t.adminToken,
      json: { is_active: true },
    });
    expect((await api(t.url, '/api/v1/cascade/feeds', { aksk: nodes.disabled })).status).toBe(200);
  });
});
