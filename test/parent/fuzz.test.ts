import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { dumpStore } from '../helpers/store-dump.js';
import { databaseOf } from '../../src/store/store.js';

/** Cases per property: a bounded number in `npm test`; CI raises it with CASCADE_FUZZ_RUNS (.ci/run). */
const RUNS = Number(process.env.CASCADE_FUZZ_RUNS ?? 40);

/**
 * Left out: test-connection probes the URL it is given, and generated URLs must not send traffic off this machine.
 * It is covered by test/parent/test-connection.test.ts against local receivers.
 */
const OUTBOUND_ROUTES = new Set(['/api/v1/cascade/nodes/{id}/test-connection']);

/** A route with the query parameter and body field names its OpenAPI entry documents, so cases aim at them. */
type Route = { method: string; path: string; queryNames: string[]; bodyNames: string[] };
type Operation = {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
};
type Who = 'anonymous' | 'admin' | 'viewer' | 'node' | 'garbage';
type Case = {
  route: Route;
  who: Who;
  ids: string[];
  query: Array<[string, string]>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; contentType: string };
  requestId: string | undefined;
};

const NUMBERS = ['-1', '1e20', '1e300', 'NaN', '2147483648', '9007199254740993', '0.5', ''];
const BODY_NAMES = [
  'id',
  'name',
  'username',
  'password',
  'status',
  'allocation_id',
  'task_id',
  'results',
  'articles',
  'headers',
  'article_count',
  'publish_time',
  'attempt',
];
const QUERY_NAMES = [
  'limit',
  'offset',
  'status',
  'search',
  'wait',
  'max',
  'node_id',
  'mp_id',
  'since',
  'task_id',
  'schedule_run_id',
  'node_type',
];

describeEachStore(
  'fuzzing every route of a real parent: never 5xx, always the envelope, refusals change nothing',
  (dialect) => {
    let t: TestParent;
    let routes: Route[] = [];
    let tokens: Record<Who, Record<string, string>> = { anonymous: {}, admin: {}, viewer: {}, node: {}, garbage: {} };
    let knownIds: string[] = [];

    beforeAll(async () => {
      t = await startTestParent({
        databaseUrl: await dialect.createDatabase(),
        // Generated logins and node keys fail often: without these the limits would answer 429 and hide the routes.
        overrides: {
          'auth.login_max_failures': 1000,
          'auth.account_free_failures': 1000,
          'auth.node_max_failures': 100000,
          'dispatch.lease_seconds': 86400,
          'dispatch.offline_after_seconds': 86400,
        },
      });
      const child = await t.addChild('fuzz-child');
      await api(t.url, '/api/v1/feeds', {
        token: t.adminToken,
        json: { id: 'FUZZ_FEED', mp_name: 'fuzz', url: 'http://127.0.0.1:9/feed.xml' },
      });
      const task = await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
        token: t.adminToken,
        json: {
          name: 'fuzz task',
          mps_id: [{ id: 'FUZZ_FEED' }],
          headers: { 'X-Site': 'secret-value' },
          cookies: 'a=b',
        },
      });
      const viewer = await api<{ id: string }>(t.url, '/api/v1/users', {
        token: t.adminToken,
        json: { username: 'fuzz-viewer', password: 'fuzz-viewer-password', role: 'viewer' },
      });
      const viewerToken = (
        await api<{ access_token: string }>(t.url, '/api/v1/auth/login', {
          json: { username: 'fuzz-viewer', password: 'fuzz-viewer-password' },
        })
      ).body.data.access_token;
      tokens = {
        anonymous: {},
        admin: { authorization: `Bearer ${t.adminToken}` },
        viewer: { authorization: `Bearer ${viewerToken}` },
        node: { authorization: `AK-SK ${child.api_key}:${child.api_secret}` },
        garbage: { authorization: 'Bearer not.a.token' },
      };
      knownIds = ['FUZZ_FEED', task.body.data.id, viewer.body.data.id, child.id, 'NO_SUCH_ID'];

      const spec = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as {
        paths: Record<string, Record<string, Operation>>;
      };
      const documented = Object.entries(spec.paths)
        .filter(([path]) => path.startsWith('/api/v1/') && !OUTBOUND_ROUTES.has(path))
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, operation]) => ({
            method: method.toUpperCase(),
            path,
            queryNames: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
            bodyNames: Object.keys(operation.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
          })),
        );
      // The legacy /wx prefix serves the same routes, hidden from the document.
      routes = [...documented, ...documented.map((r) => ({ ...r, path: r.path.replace('/api/v1/', '/api/v1/wx/') }))];
    });
    afterAll(async () => t?.close());

    it('the route list comes from the OpenAPI document and covers every prefix', () => {
      expect(routes.length).toBeGreaterThan(60);
      expect(routes.some((r) => r.path === '/api/v1/auth/login')).toBe(true);
      expect(routes.some((r) => r.path === '/api/v1/wx/cascade/claim-task')).toBe(true);
    });

    const json = fc.jsonValue({ maxDepth: 4 });
    // Edge values are weighted up: a uniform string almost never is the number that breaks a column.
    const text = fc.oneof(
      { arbitrary: fc.constantFrom(...NUMBERS), weight: 4 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
      { arbitrary: fc.constant('\u0000'), weight: 1 },
      { arbitrary: fc.fullUnicodeString({ maxLength: 10 }), weight: 1 },
    );
    const edgeNumber = fc.constantFrom(0, -1, 1e20, 1e300, 2147483648, 2 ** 63, 0.5);

    const names = (documented: string[], common: readonly string[]) =>
      fc.oneof(
        { arbitrary: fc.constantFrom(...(documented.length > 0 ? documented : common)), weight: 4 },
        { arbitrary: fc.constantFrom(...common), weight: 1 },
        { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
      );

    function caseArbitrary(): fc.Arbitrary<Case> {
      return fc.constantFrom(...routes).chain((route) =>
        fc.record({
          route: fc.constant(route),
          who: fc.constantFrom<Who>('admin', 'admin', 'node', 'node', 'viewer', 'anonymous', 'garbage'),
          ids: fc.array(fc.oneof(fc.constantFrom(...knownIds), fc.string({ minLength: 1, maxLength: 300 })), {
            minLength: 2,
            maxLength: 2,
          }),
          query: fc.array(fc.tuple(names(route.queryNames, QUERY_NAMES), text), { maxLength: 3 }),
          body: fc.oneof(
            fc.constant({ kind: 'none' as const }),
            fc.record({
              kind: fc.constant('json' as const),
              value: fc.oneof(
                {
                  arbitrary: fc.dictionary(names(route.bodyNames, BODY_NAMES), fc.oneof(json, text, edgeNumber), {
                    maxKeys: 6,
                  }),
                  weight: 3,
                },
                { arbitrary: json, weight: 1 },
              ),
            }),
            fc.record({
              kind: fc.constant('raw' as const),
              text: fc.oneof(fc.string({ maxLength: 60 }), fc.constant(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`)),
              contentType: fc.constantFrom(
                'application/json',
                'text/plain',
                'application/x-www-form-urlencoded',
                'application/xml',
                'multipart/form-data; boundary=x',
              ),
            }),
          ),
          requestId: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
        }),
      );
    }

    async function send(input: Case): Promise<{ status: number; text: string; url: string }> {
      let index = 0;
      const path = input.route.path.replace(/\{[^}]+\}/g, () =>
        encodeURIComponent(input.ids[index++ % input.ids.length] ?? 'x'),
      );
      const query = new URLSearchParams(input.query).toString();
      const url = `${t.url}${path}${query ? `?${query}` : ''}`;
      const headers: Record<string, string> = { ...tokens[input.who] };
      if (input.requestId !== undefined) headers['x-request-id'] = input.requestId;
      let body: string | undefined;
      if (input.body.kind === 'json') {
        body = JSON.stringify(input.body.value);
        headers['content-type'] = 'application/json';
      } else if (input.body.kind === 'raw') {
        body = input.body.text;
        headers['content-type'] = input.body.contentType;
      }
      const canHaveBody = input.route.method !== 'GET' && input.route.method !== 'HEAD';
      const response = await fetch(url, {
        method: input.route.method,
        headers,
        ...(canHaveBody && body !== undefined ? { body } : {}),
      });
      return { status: response.status, text: await response.text(), url };
    }

    it(`${RUNS} generated requests: no 5xx, every answer in the envelope, a refused request leaves the store as it was`, async () => {
      await fc.assert(
        fc.asyncProperty(caseArbitrary(), async (input) => {
          const before = await dumpStore(databaseOf(t.parent.services.store));
          const { status, text: answer, url } = await send(input);
          const where = `${input.route.method} ${url} (${input.who}) → ${status} ${answer.slice(0, 300)}`;
          expect(status, where).toBeLessThan(500);
          const envelope = JSON.parse(answer) as { code: unknown; message: unknown; data: unknown; error?: unknown };
          expect(typeof envelope.message, where).toBe('string');
          expect('data' in envelope, where).toBe(true);
          if (status < 300) {
            expect(envelope.code, where).toBe(0);
            return;
          }
          expect(envelope, where).toMatchObject({ code: status, data: null, error: expect.any(String) as string });
          expect(await dumpStore(databaseOf(t.parent.services.store)), where).toBe(before);
        }),
        { numRuns: RUNS },
      );
    }, 600_000);
  },
);
