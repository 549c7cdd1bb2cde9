import type { FastifyInstance } from 'fastify';
import type { JwtSigner } from '../auth/jwt.js';
import { listenAuthority } from '../feeds-out/subscription-urls.js';
import { createLogger } from '../logger.js';
import { buildApiApp } from '../parent/api-app.js';
import { createParentServices } from '../parent/parent-services.js';
import type { Store } from '../store/store.js';
import type { ApiOptions, ApiTransport, HttpMethod } from './api-client.js';
import { loadCliConfig, withStore } from './context.js';
import { CommandFailed } from './errors.js';

/** Long enough for one command; the token never leaves this process. */
const LOCAL_TOKEN_TTL_SECONDS = 300;

/**
 * The API over the local store: the parent's own Fastify app, built in this process from the local config but never
 * listening and with no background loop started (no sweeper, scheduler or delivery sender), called with
 * `app.inject`. Whoever can open the store already holds every power over it, so the calls carry a short-lived token
 * of the store's oldest active admin, signed with the store's key; the auth of a listening parent is unchanged.
 */
export async function withLocalTransport<T>(
  options: ApiOptions,
  work: (transport: ApiTransport) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(options);
  // Quiet at the default level (the operator wants the command's output), but a fault inside a route is still shown.
  const logger = createLogger(
    config.log_level === 'info' ? 'warn' : config.log_level,
    process.stderr,
    config.log_format,
  );
  return withStore(config, async (store) => {
    const { services, notifier } = await createParentServices(config, store, logger);
    const app = await buildApiApp({ services, logger });
    try {
      const authorization = `Bearer ${await localAdminToken(store, services.jwt)}`;
      return await work(injectTransport(app, authorization, listenAuthority(config)));
    } finally {
      // Nodes told of new work (dispatch) hear of it before the command exits; each notify waits 2 s at most.
      await notifier.settled();
      await app.close();
      await services.events.close();
    }
  });
}

async function localAdminToken(store: Store, jwt: JwtSigner): Promise<string> {
  const admin = await store.users.firstActiveAdmin();
  if (!admin)
    throw new CommandFailed(
      'The store has no active admin user for the CLI to act as; run `cascade init` to create one.',
    );
  const { token } = await jwt.sign(
    { id: admin.id, username: admin.username, role: 'admin', tokenGeneration: admin.tokenGeneration },
    LOCAL_TOKEN_TTL_SECONDS,
  );
  return token;
}

/**
 * `host` is the configured listen address: an answer that names where the parent is reached (subscription URLs)
 * names the parent this store belongs to, as if the request had come to it, not light-my-request's `localhost:80`.
 */
function injectTransport(app: FastifyInstance, authorization: string, host: string): ApiTransport {
  return {
    target: 'the local store',
    async send(method: HttpMethod, path: string, body: unknown) {
      const response = await app.inject({
        method,
        url: path,
        headers: { host, authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      let parsed: unknown;
      try {
        parsed = response.json();
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, body: parsed };
    },
  };
}
