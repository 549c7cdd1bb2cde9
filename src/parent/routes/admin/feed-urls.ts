import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { subscriptionUrls } from '../../../feeds-out/subscription-urls.js';
import { subscriptionTarget } from '../../../services/subscription-target.js';
import { ok } from '../../envelope.js';
import { requireUser, userOf } from '../../plugins/auth.js';
import { closed, NoQuery } from '../../schemas.js';

const UrlQuery = closed({
  feed_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191, description: 'One feed.' })),
  task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191, description: 'The merged feeds of a message task.' })),
});

/** Subscription URLs for the calling user (with the user's feed token when feeds are private), and token rotation. */
export async function feedUrlRoutes(app: FastifyInstance): Promise<void> {
  const { store, config, feedTokenKey } = app.services;
  const tags = ['feeds-out'];
  const security = [{ bearer: [] }];

  app.get<{ Querystring: Static<typeof UrlQuery> }>(
    '/feed-urls',
    { schema: { tags, security, summary: 'Subscription URLs of a feed, a task (merged) or everything', querystring: UrlQuery }, onRequest: requireUser('read') },
    async (request) => {
      const target = await subscriptionTarget(store, { feedId: request.query.feed_id, taskId: request.query.task_id });
      const user = await store.users.get(userOf(request).id);
      return ok(subscriptionUrls(config, target, user, feedTokenKey, `${request.protocol}://${request.host}`));
    },
  );

  app.post(
    '/feed-token/rotate',
    { schema: { tags, security, summary: 'Rotate your feed token: every subscription URL you had stops working', querystring: NoQuery }, onRequest: requireUser('read') },
    async (request) => {
      await store.users.rotateFeedToken(userOf(request).id);
      const user = await store.users.get(userOf(request).id);
      return ok(subscriptionUrls(config, { kind: 'all' }, user, feedTokenKey, `${request.protocol}://${request.host}`), 'Feed token rotated; earlier subscription URLs no longer work.');
    },
  );
}
