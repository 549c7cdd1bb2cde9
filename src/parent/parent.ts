import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { JwtSigner } from '../auth/jwt.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { randomToken } from '../auth/secrets.js';
import type { Config } from '../config/schema.js';
import { Claimer } from '../dispatch/claimer.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { Scheduler } from '../dispatch/scheduler.js';
import { Sweeper } from '../dispatch/sweeper.js';
import { Metrics } from '../metrics/metrics.js';
import { openStore, type Store } from '../store/store.js';
import { buildApp } from './app.js';
import { ConsoleEventFeed } from './events/console-events.js';
import { EventTickets } from './events/event-tickets.js';
import type { ParentServices } from './services.js';

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
  close(): Promise<void>;
};

/** Wires the parent (pg-boss style: everything assembled in one place), migrates, and listens. */
export async function startParent(config: Readonly<Config>, logger: Logger): Promise<Parent> {
  const store = await openStore(config, logger);
  try {
    await store.migrate();
    const metrics = new Metrics(store, config.dispatch.offline_after_seconds);
    const events = new ConsoleEventFeed(store, logger.child({ component: 'console-events' }));
    const dispatcher = new Dispatcher(store, config.dispatch, metrics, (summary) => events.publishDispatch(summary));
    const secret = await jwtSecret(config, store);
    const services: ParentServices = {
      config,
      store,
      jwt: new JwtSigner(secret),
      loginLimiter: new LoginLimiter(config.auth.login_max_failures, config.auth.login_window_seconds * 1000),
      metrics,
      dispatcher,
      claimer: new Claimer(store, metrics),
      sweeper: new Sweeper(store, config.dispatch, logger.child({ component: 'sweeper' }), metrics),
      scheduler: new Scheduler(store, dispatcher, logger.child({ component: 'scheduler' })),
      events,
      eventTickets: new EventTickets(secret),
    };
    const app = await buildApp({ services, logger });
    await app.listen({ host: config.host, port: config.port });
    services.sweeper.start();
    if (config.scheduler.enabled) await services.scheduler.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      close() {
        // Stop accepting, let in-flight requests finish (Fastify waits for them), then close the store.
        closing ??= (async () => {
          await services.scheduler.stop();
          await services.sweeper.stop();
          services.claimer.shutdown();
          await app.close();
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
