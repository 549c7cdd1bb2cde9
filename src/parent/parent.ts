import type { FastifyInstance } from 'fastify';
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
import type { Store } from '../store/store.js';
import { openParentStore, type StartupWait } from './open-parent-store.js';
import { buildApp } from './app.js';
import { Readiness } from './readiness.js';
import { readTlsFiles } from './http-server.js';
import { ConsoleEventFeed } from './events/console-events.js';
import { EventTickets } from './events/event-tickets.js';
import type { ParentServices } from './services.js';
import { networkPolicy } from '../net/address-policy.js';
import { createGuardedFetch } from '../net/guarded-fetch.js';

type TlsServer = { setSecureContext(options: { cert: Buffer; key: Buffer }): void };

export const JWT_KEY_SETTING = 'jwt_signing_key';

/** The JWT key: `secret` from the config when set, else the one generated at first init and kept in the store. */
export async function jwtSecret(config: Config, store: Store): Promise<string> {
  return config.secret ?? (await store.settings.getOrCreate(JWT_KEY_SETTING, () => randomToken(64)));
}

export type Parent = {
  readonly app: FastifyInstance;
  readonly services: ParentServices;
  /** Address actually bound (useful with port 0). */
  readonly url: string;
  /** Re-reads `server.tls.cert` / `key` for new connections (SIGHUP); false when the parent speaks plain HTTP. */
  reloadTls(): boolean;
  close(): Promise<void>;
};

export type StartOptions = {
  /** The password check to use (tests count its calls); default scrypt. */
  verifyPassword?: PasswordVerify;
  /** How long to wait for an unreachable database at start (tests shorten it); default one minute. */
  databaseWait?: StartupWait;
};

/** Wires the parent (pg-boss style: everything assembled in one place), migrates (waiting for a database that is not up yet), and listens. */
export async function startParent(config: Readonly<Config>, logger: Logger, options: StartOptions = {}): Promise<Parent> {
  const store = await openParentStore(config, logger, options.databaseWait);
  try {
    const metrics = new Metrics(store, config.dispatch.offline_after_seconds);
    const outboundFetch = createGuardedFetch(networkPolicy(config.network));
    const notifier = new NodeNotifier(store, logger.child({ component: 'notifier' }), outboundFetch);
    const events = new ConsoleEventFeed(store, logger.child({ component: 'console-events' }));
    const dispatcher = new Dispatcher(store, config.dispatch, metrics, notifier, (summary) => events.publishDispatch(summary));
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
      deliverySender: new DeliverySender(store, config.delivery, createHttpSend(outboundFetch), logger.child({ component: 'delivery' }), metrics),
      events,
      eventTickets: new EventTickets(signingKey),
    };
    const app = await buildApp({ services, logger });
    await app.listen({ host: config.host, port: config.port });
    services.sweeper.start();
    if (config.scheduler.enabled) await services.scheduler.start();
    if (config.delivery.enabled) services.deliverySender.start();
    services.readiness.markReady();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const scheme = config.server.tls.cert === undefined ? 'http' : 'https';
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
      reloadTls() {
        const tls = readTlsFiles(config.server.tls);
        if (!tls) return false;
        // Connections already open keep the context they were made with; every new one gets the files' contents now.
        (app.server as unknown as TlsServer).setSecureContext(tls);
        return true;
      },
      close() {
        // Stop accepting, let in-flight requests finish (Fastify waits for them), then close the store.
        closing ??= (async () => {
          services.readiness.markStopping();
          await services.scheduler.stop();
          await services.sweeper.stop();
          await services.deliverySender.stop();
          services.claimer.shutdown();
          await app.close();
          await notifier.settled();
          await events.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
