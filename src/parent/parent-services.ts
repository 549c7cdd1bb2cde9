import type { Logger } from 'pino';
import { JwtSigner } from '../auth/jwt.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { NodeAuthFailures } from '../auth/node-auth-failures.js';
import { PasswordChecker, type PasswordVerify } from '../auth/password-checker.js';
import { randomToken } from '../auth/secrets.js';
import type { Config } from '../config/schema.js';
import { createHttpSend } from '../delivery/http-send.js';
import { DeliverySender } from '../delivery/sender.js';
import { Claimer } from '../dispatch/claimer.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { NodeNotifier } from '../dispatch/node-notifier.js';
import { Scheduler } from '../dispatch/scheduler.js';
import { Sweeper } from '../dispatch/sweeper.js';
import { Metrics } from '../metrics/metrics.js';
import { networkPolicy } from '../net/address-policy.js';
import { createGuardedFetch } from '../net/guarded-fetch.js';
import type { Store } from '../store/store.js';
import { ConsoleEventFeed } from './events/console-events.js';
import { EventTickets } from './events/event-tickets.js';
import { Readiness } from './readiness.js';
import type { ParentServices } from './services.js';

export const JWT_KEY_SETTING = 'jwt_signing_key';

/** The JWT key: `secret` from the config when set, else the one generated at first init and kept in the store. */
export async function jwtSecret(config: Readonly<Config>, store: Store): Promise<string> {
  return config.secret ?? (await store.settings.getOrCreate(JWT_KEY_SETTING, () => randomToken(64)));
}

export type ServiceOptions = {
  /** The password check to use (tests count its calls); default scrypt. */
  verifyPassword?: PasswordVerify;
};

/**
 * Everything the routes need, wired in one place over an open, migrated store. Nothing here starts a loop or a
 * timer: the listening parent (parent.ts) starts the sweeper, scheduler and delivery sender itself, and the CLI's
 * in-process app (cli/api-local.ts) never does.
 */
export async function createParentServices(
  config: Readonly<Config>,
  store: Store,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<{ services: ParentServices; notifier: NodeNotifier }> {
  const metrics = new Metrics(store, config.dispatch.offline_after_seconds);
  const outboundFetch = createGuardedFetch(networkPolicy(config.network));
  const notifier = new NodeNotifier(store, logger.child({ component: 'notifier' }), outboundFetch);
  const events = new ConsoleEventFeed(store, logger.child({ component: 'console-events' }));
  const dispatcher = new Dispatcher(store, config.dispatch, metrics, notifier, (summary) =>
    events.publishDispatch(summary),
  );
  const signingKey = await jwtSecret(config, store);
  const services: ParentServices = {
    config,
    store,
    jwt: new JwtSigner(signingKey),
    feedTokenKey: signingKey,
    loginLimiter: new LoginLimiter({
      maxFailures: config.auth.login_max_failures,
      windowMs: config.auth.login_window_seconds * 1000,
      accountFreeFailures: config.auth.account_free_failures,
      accountMaxDelayMs: config.auth.account_max_delay_seconds * 1000,
    }),
    passwords: new PasswordChecker(options.verifyPassword),
    nodeAuthFailures: new NodeAuthFailures(config.auth.node_max_failures, config.auth.login_window_seconds * 1000),
    metrics,
    dispatcher,
    claimer: new Claimer(store, metrics),
    sweeper: new Sweeper(store, config.dispatch, logger.child({ component: 'sweeper' }), metrics),
    scheduler: new Scheduler(store, dispatcher, logger.child({ component: 'scheduler' }), config.scheduler.timezone),
    readiness: new Readiness(),
    outboundFetch,
    deliverySender: new DeliverySender(
      store,
      config.delivery,
      createHttpSend(outboundFetch),
      logger.child({ component: 'delivery' }),
      metrics,
    ),
    events,
    eventTickets: new EventTickets(signingKey),
  };
  return { services, notifier };
}
