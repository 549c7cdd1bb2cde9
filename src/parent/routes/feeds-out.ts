import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { feedTokenUserId, feedTokenValid } from '../../auth/feed-token.js';
import { CascadeError, notFound } from '../../errors/cascade-error.js';
import { buildFeed, CONTENT_TYPES, type FeedDocument, type FeedFormat } from '../../feeds-out/build-feed.js';
import { closed } from '../schemas.js';
import { subscriptionBase } from '../../feeds-out/subscription-urls.js';

const FileParams = closed({
  file: Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '^.+\\.(rss|atom|json)$',
    description: '`<id>.rss`, `<id>.atom` or `<id>.json`.',
  }),
});
const FeedQuery = closed({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Newest articles to list, 1..500.' }),
  token: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 400,
      description: 'A user’s feed token (not needed when `output.public` is true).',
    }),
  ),
});

type FeedRequest = FastifyRequest<{ Params: Static<typeof FileParams>; Querystring: Static<typeof FeedQuery> }>;

function splitFile(file: string): { id: string; format: FeedFormat } {
  const dot = file.lastIndexOf('.');
  return { id: file.slice(0, dot), format: file.slice(dot + 1) as FeedFormat };
}

/**
 * What the parent collected, served as RSS 2.0, Atom 1.0 and JSON Feed 1.1: one feed, the merged feeds of a task,
 * or everything. Public when `output.public` is true; otherwise a user's feed token in `?token=`.
 */
export async function feedsOutRoutes(app: FastifyInstance): Promise<void> {
  const { store, config, feedTokenKey: jwtKey } = app.services;
  const schema = (summary: string) => ({ tags: ['feeds-out'], summary, params: FileParams, querystring: FeedQuery });

  async function authorize(request: FeedRequest): Promise<void> {
    if (config.output.public) return;
    const token = request.query.token;
    if (!token)
      throw new CascadeError(
        'UNAUTHENTICATED',
        'This feed is private: add ?token=<your feed token> (see `cascade feed url`).',
      );
    const userId = feedTokenUserId(token);
    const user = userId ? await store.users.findActive(userId) : undefined;
    if (!user || !feedTokenValid(jwtKey, token, user.id, user.feedTokenVersion)) {
      throw new CascadeError(
        'UNAUTHENTICATED',
        'Unknown or rotated feed token; get the current URL with `cascade feed url`.',
      );
    }
  }

  async function serve(
    request: FeedRequest,
    reply: FastifyReply,
    doc: Omit<FeedDocument, 'selfUrl' | 'link'>,
    format: FeedFormat,
  ): Promise<string | FastifyReply> {
    const base = subscriptionBase(config, `${request.protocol}://${request.host}`);
    const built = buildFeed({ ...doc, selfUrl: `${base}${request.url.split('?')[0] ?? ''}`, link: base }, format);
    const lastModified = new Date(Math.floor(built.lastModifiedMs / 1000) * 1000);
    reply
      .header('etag', built.etag)
      .header('last-modified', lastModified.toUTCString())
      .header(
        'cache-control',
        `${config.output.public ? 'public' : 'private'}, max-age=${config.output.cache_seconds}`,
      );
    if (notModified(request, built.etag, lastModified.getTime())) return reply.code(304).send();
    return reply.type(CONTENT_TYPES[format]).send(built.body);
  }

  app.get<{ Params: Static<typeof FileParams>; Querystring: Static<typeof FeedQuery> }>(
    '/feeds/:file',
    { schema: schema('One feed, or `all` for every feed merged') },
    async (request, reply) => {
      await authorize(request);
      const { id, format } = splitFile(request.params.file);
      if (id === 'all')
        return serve(
          request,
          reply,
          {
            title: 'Cascade: all feeds',
            description: 'Every article Cascade collected.',
            articles: await store.articles.newest(undefined, request.query.limit),
          },
          format,
        );
      const feed = await store.feeds.find(id);
      if (!feed) throw notFound('Feed', id);
      return serve(
        request,
        reply,
        {
          title: feed.mpName || feed.id,
          description: feed.mpIntro,
          articles: await store.articles.newest([feed.id], request.query.limit),
        },
        format,
      );
    },
  );

  app.get<{ Params: Static<typeof FileParams>; Querystring: Static<typeof FeedQuery> }>(
    '/feeds/tasks/:file',
    { schema: schema('The feeds of a message task, merged') },
    async (request, reply) => {
      await authorize(request);
      const { id, format } = splitFile(request.params.file);
      const task = await store.tasks.get(id);
      const { feedIds } = task;
      return serve(
        request,
        reply,
        {
          title: task.name,
          description: `The ${feedIds.length} feeds of ${task.name}, merged.`,
          articles: await store.articles.newest(feedIds, request.query.limit),
        },
        format,
      );
    },
  );
}

/** RFC 9110 §13.2.2: If-None-Match decides when present; otherwise If-Modified-Since. */
function notModified(request: FastifyRequest, etag: string, lastModifiedMs: number): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined)
    return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*');
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && lastModifiedMs <= since;
}
