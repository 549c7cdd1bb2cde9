import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CascadeError } from '../../../errors/cascade-error.js';
import { subscriptionUrls } from '../../../feeds-out/subscription-urls.js';
import { subscriptionTarget } from '../../../services/subscription-target.js';
import type { Store } from '../../../store/store.js';
import type { UserRecord } from '../../../store/users.js';
import { ok } from '../../envelope.js';
import { requireUser, userOf, type UserPrincipal } from '../../plugins/auth.js';
import { closed, NoQuery } from '../../schemas.js';

const UrlQuery = closed({
  feed_id: Type.Optional(Type.String({ minLength: 1, maxLength: 191, description: 'One feed.' })),
  task_id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 191, description: 'The merged feeds of a message task.' }),
  ),
  user: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 191,
      description:
        "Whose feed token goes in the URLs (a username; default: the caller). Another user's needs the admin role.",
    }),
  ),
});

/**
 * Subscription URLs for the calling user, or for a user an admin names (with that user's feed token when feeds are
 * private), and token rotation.
 */
export async function feedUrlRoutes(app: FastifyInstance): Promise<void> {
  const { store, config, feedTokenKey } = app.services;
  const tags = ['feeds-out'];
  const security = [{ bearer: [] }];

  app.get<{ Querystring: Static<typeof UrlQuery> }>(
    '/feed-urls',
    {
      schema: {
        tags,
        security,
        summary: 'Subscription URLs of a feed, a task (merged) or everything',
        querystring: UrlQuery,
      },
      onRequest: requireUser('read'),
    },
    async (request) => {
      const target = await subscriptionTarget(store, { feedId: request.query.feed_id, taskId: request.query.task_id });
      const user = await tokenOwner(store, userOf(request), request.query.user);
      return ok(subscriptionUrls(config, target, user, feedTokenKey, `${request.protocol}://${request.host}`));
    },
  );

  app.post(
    '/feed-token/rotate',
    {
      schema: {
        tags,
        security,
        summary: 'Rotate your feed token: every subscription URL you had stops working',
        querystring: NoQuery,
      },
      onRequest: requireUser('read'),
    },
    async (request) => {
      await store.users.rotateFeedToken(userOf(request).id);
      const user = await store.users.get(userOf(request).id);
      return ok(
        subscriptionUrls(config, { kind: 'all' }, user, feedTokenKey, `${request.protocol}://${request.host}`),
        'Feed token rotated; earlier subscription URLs no longer work.',
      );
    },
  );
}

/**
 * Whose feed token the URLs carry: the caller, or (an admin only) the named user, who must exist and be active
 * (a disabled user's token reads nothing, so a URL with it would be a URL that does not work).
 */
async function tokenOwner(store: Store, caller: UserPrincipal, username: string | undefined): Promise<UserRecord> {
  if (username === undefined || username === caller.username) return store.users.get(caller.id);
  if (caller.role !== 'admin')
    throw new CascadeError(
      'FORBIDDEN',
      "Another user's subscription URLs need the admin role; leave out `user` for your own.",
    );
  const user = await store.users.findByUsername(username);
  if (!user || !user.isActive) throw new CascadeError('NOT_FOUND', `User '${username}' does not exist or is disabled.`);
  return user;
}
