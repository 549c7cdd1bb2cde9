import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ok, page } from '../../envelope.js';
import type { UserRole } from '../../../auth/jwt.js';
import type { MessageTaskView } from '../../../store/message-tasks.js';
import { requireUser, userOf } from '../../plugins/auth.js';
import { closed, IdParams, OptionalHttpUrl, Paging } from '../../schemas.js';

/** Header names are RFC 9110 tokens; values may not break the line (that would inject headers). */
const NO_LINE_BREAKS = '^[^\\r\\n\\u0000]*$';
const HeaderName = Type.String({ minLength: 1, maxLength: 200, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });
const HeaderValue = Type.String({ maxLength: 8000, pattern: NO_LINE_BREAKS });

const TaskStatus = Type.Union([Type.Literal(0), Type.Literal(1)], { description: '1 enabled, 0 disabled.' });

/** `mps_id` entries keep any extra keys the UI stores with the id (such as `mp_name`). */
const FeedRef = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 191 }) },
  { additionalProperties: true, description: 'A feed reference: {id, ...}.' },
);

const taskFields = {
  message_type: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)], { description: '0 message, 1 webhook.' })),
  message_template: Type.Optional(Type.String({ maxLength: 65535 })),
  web_hook_url: Type.Optional(OptionalHttpUrl(2000, 'Where a webhook task posts.')),
  headers: Type.Optional(
    Type.Record(HeaderName, HeaderValue, {
      additionalProperties: false,
      description: 'HTTP headers the child sends when fetching (name → value).',
    }),
  ),
  cookies: Type.Optional(
    Type.String({
      maxLength: 16000,
      pattern: NO_LINE_BREAKS,
      description: 'Cookie header value the child sends when fetching.',
    }),
  ),
  mps_id: Type.Optional(
    Type.Array(FeedRef, { maxItems: 100000, description: 'Feeds of this task; every id must exist.' }),
  ),
  cron_exp: Type.Optional(Type.String({ maxLength: 200, description: '5 or 6 cron fields; empty means no schedule.' })),
  status: Type.Optional(TaskStatus),
  webhook_secret: Type.Optional(
    Type.String({
      maxLength: 500,
      pattern: NO_LINE_BREAKS,
      description:
        'Webhook tasks: the key of X-Cascade-Signature (generated when empty). DingTalk and Feishu bots: the bot’s signing secret. Write-only: shown once.',
    }),
  ),
};

const CreateTask = closed({ name: Type.String({ minLength: 1, maxLength: 500 }), ...taskFields });
const UpdateTask = closed({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), ...taskFields });
const ListQuery = closed({ status: Type.Optional(TaskStatus), ...Paging });

const REDACTED = '[redacted]';

/**
 * Task `headers` and `cookies` are credentials for the feed sites (an Authorization header, a session cookie):
 * admins see them, viewers see which header names are set and whether a cookie is, never the values.
 */
function visibleTo(role: UserRole): (view: MessageTaskView) => MessageTaskView {
  if (role === 'admin') return (view) => view;
  return (view) => ({
    ...view,
    headers: Object.fromEntries(Object.keys(view.headers).map((name) => [name, REDACTED])),
    cookies: view.cookies === '' ? '' : REDACTED,
  });
}

/** Message task CRUD at /message-tasks (docs/protocol.md §3.1); these views include headers and cookies for admins only. */
export async function messageTaskRoutes(app: FastifyInstance): Promise<void> {
  const { store, scheduler } = app.services;
  const tags = ['message-tasks'];
  /** A cron change takes effect at once in this parent (others re-read every minute); the write stands either way. */
  const rescheduled = async <T>(request: FastifyRequest, result: T): Promise<T> => {
    await scheduler
      .reload()
      .catch((error: unknown) => request.log.error({ err: error }, 'scheduler reload after a task change failed'));
    return result;
  };
  const security = [{ bearer: [] }];

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/message-tasks',
    {
      schema: { tags, security, summary: 'List message tasks', querystring: ListQuery },
      onRequest: requireUser('read'),
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const { rows, total } = await store.tasks.list(filter, limit, offset);
      const forRole = visibleTo(userOf(request).role);
      return ok(
        page(
          rows.map((row) => forRole(store.tasks.view(row))),
          total,
          limit,
          offset,
        ),
      );
    },
  );

  app.post<{ Body: Static<typeof CreateTask> }>(
    '/message-tasks',
    { schema: { tags, security, summary: 'Create a message task', body: CreateTask }, onRequest: requireUser('write') },
    async (request) => ok(await rescheduled(request, await store.tasks.create(request.body)), 'Message task created.'),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/message-tasks/:id',
    { schema: { tags, security, summary: 'Show a message task', params: IdParams }, onRequest: requireUser('read') },
    async (request) => ok(visibleTo(userOf(request).role)(store.tasks.view(await store.tasks.get(request.params.id)))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateTask> }>(
    '/message-tasks/:id',
    {
      schema: { tags, security, summary: 'Update a message task', params: IdParams, body: UpdateTask },
      onRequest: requireUser('write'),
    },
    async (request) =>
      ok(
        await rescheduled(request, await store.tasks.update(request.params.id, request.body)),
        'Message task updated.',
      ),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/message-tasks/:id',
    { schema: { tags, security, summary: 'Delete a message task', params: IdParams }, onRequest: requireUser('write') },
    async (request) => {
      await store.tasks.remove(request.params.id);
      return ok(await rescheduled(request, null), 'Message task deleted.');
    },
  );
}
