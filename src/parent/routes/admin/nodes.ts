import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CascadeError } from '../../../errors/cascade-error.js';
import { AddressRefusedError } from '../../../net/address-policy.js';
import type { GuardedFetch } from '../../../net/guarded-fetch.js';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, HttpUrl, IdParams, Paging } from '../../schemas.js';

const SyncConfig = closed({
  max_capacity: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 10000, description: 'Most feeds worked on at once.' }),
  ),
  feed_quota: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 191 }), Type.Integer({ minimum: 0, maximum: 1000000 }), {
      description: 'Feed id → weight ≥ 0; a node with weight > 0 is preferred for that feed.',
    }),
  ),
});

const CreateNode = closed({
  node_type: Type.Union([Type.Literal(0), Type.Literal(1)], { description: '0 parent, 1 child.' }),
  name: Type.String({ minLength: 1, maxLength: 191 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  api_url: Type.Optional(HttpUrl),
  require_signed: Type.Optional(
    Type.Boolean({
      description: 'Refuse the plain AK-SK header for this node: only signed requests (AK-SK-HMAC) are accepted.',
    }),
  ),
  sync_config: Type.Optional(SyncConfig),
});

const UpdateNode = closed({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  api_url: Type.Optional(Type.Union([HttpUrl, Type.Null()])),
  is_active: Type.Optional(Type.Boolean()),
  require_signed: Type.Optional(
    Type.Boolean({
      description: 'Refuse the plain AK-SK header for this node: only signed requests (AK-SK-HMAC) are accepted.',
    }),
  ),
  sync_config: Type.Optional(SyncConfig),
});

const TestConnection = closed({ api_url: Type.Optional(HttpUrl) }, "Probe this address instead of the node's api_url.");

/** How long test-connection waits for the child's /healthz before it reports `connected: false`. */
const PROBE_TIMEOUT_MS = 5000;

export type ProbeResult = { connected: boolean; latency_ms: number; error?: string };

/**
 * GET <apiUrl>/healthz once, through the network policy. An unreachable child is an answer (`connected: false`),
 * not an error. A target the policy refuses is never connected to: the answer is the policy's reason, the same
 * whatever listens there, so the probe cannot map ports the policy keeps out of reach.
 */
export async function probeHealth(
  apiUrl: string,
  fetch: GuardedFetch,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, '')}/healthz`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel();
    if (response.ok) return { connected: true, latency_ms: latency() };
    return { connected: false, latency_ms: latency(), error: `health check answered HTTP ${response.status}` };
  } catch (error) {
    if (error instanceof AddressRefusedError) return { connected: false, latency_ms: 0, error: error.message };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { connected: false, latency_ms: latency(), error: reason };
  }
}

const ListQuery = closed({
  node_type: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
  status: Type.Optional(
    Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
      description: '0 offline, 1 online, 2 disabled.',
    }),
  ),
  ...Paging,
});

/** Node management: create (credentials shown once), list, show, update, rotate credentials. */
export async function nodeRoutes(app: FastifyInstance): Promise<void> {
  const { store, metrics } = app.services;
  const tags = ['nodes'];
  // What the child last said in a heartbeat to this parent; null when it never did (the original child does not).
  const withReport = <V extends { id: string }>(view: V): V & { outbox_depth: number | null } => ({
    ...view,
    outbox_depth: metrics.outboxDepths.get(view.id)?.depth ?? null,
  });

  app.post<{ Body: Static<typeof CreateNode> }>(
    '/nodes',
    {
      schema: { tags, summary: 'Create a node; a child gets api_key/api_secret/notify_key once', body: CreateNode },
      onRequest: requireUser('write'),
    },
    async (request) => {
      const { node, credentials } = await store.nodes.create(request.body);
      const message = credentials
        ? 'Node created. Store api_secret and notify_key now: they are not shown again.'
        : 'Node created.';
      return ok({ ...node, ...(credentials ?? {}) }, message);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/nodes',
    { schema: { tags, summary: 'List nodes', querystring: ListQuery }, onRequest: requireUser('read') },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { list, total } = await store.nodes.list(filter, limit, offset);
      return ok(page(list.map(withReport), total, limit, offset));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/nodes/:id',
    { schema: { tags, summary: 'Show a node', params: IdParams }, onRequest: requireUser('read') },
    async (request) => ok(withReport(store.nodes.view(await store.nodes.get(request.params.id)))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateNode> }>(
    '/nodes/:id',
    { schema: { tags, summary: 'Update a node', params: IdParams, body: UpdateNode }, onRequest: requireUser('write') },
    async (request) => ok(await store.nodes.update(request.params.id, request.body), 'Node updated.'),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/nodes/:id/credentials',
    {
      schema: {
        tags,
        summary: 'Rotate credentials and the notify key; the old ones stop working at once',
        params: IdParams,
      },
      onRequest: requireUser('write'),
    },
    async (request) => {
      const { node, credentials } = await store.nodes.rotateCredentials(request.params.id);
      return ok(
        { ...node, ...credentials },
        'Credentials rotated. Store api_secret and notify_key now: they are not shown again.',
      );
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TestConnection> }>(
    '/nodes/:id/test-connection',
    {
      schema: {
        tags,
        summary: "Probe the node's /healthz: {connected, latency_ms, error?}",
        params: IdParams,
        body: TestConnection,
      },
      onRequest: requireUser('write'),
      // The body is optional: no body means "probe the stored api_url".
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const node = await store.nodes.get(request.params.id);
      const apiUrl = request.body.api_url ?? node.apiUrl;
      if (!apiUrl)
        throw new CascadeError(
          'UNPROCESSABLE',
          `Node '${node.name}' has no api_url; set one or send {"api_url": "http://host:port"}.`,
        );
      const result = await probeHealth(apiUrl, app.services.outboundFetch);
      return ok(result, result.connected ? 'The node answered.' : 'The node did not answer.');
    },
  );
}
