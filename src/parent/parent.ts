import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { openParentStore, type StartupWait } from './open-parent-store.js';
import { buildApp } from './app.js';
import { readTlsFiles } from './http-server.js';
import { createParentServices, type ServiceOptions } from './parent-services.js';
import type { ParentServices } from './services.js';

type TlsServer = { setSecureContext(options: { cert: Buffer; key: Buffer }): void };

export type Parent = {
  readonly app: FastifyInstance;
  readonly services: ParentServices;
  /** Address actually bound (useful with port 0). */
  readonly url: string;
  /** Re-reads `server.tls.cert` / `key` for new connections (SIGHUP); false when the parent speaks plain HTTP. */
  reloadTls(): boolean;
  close(): Promise<void>;
};

export type StartOptions = ServiceOptions & {
  /** How long to wait for an unreachable database at start (tests shorten it); default one minute. */
  databaseWait?: StartupWait;
};

/** Wires the parent (pg-boss style: everything assembled in one place), migrates (waiting for a database that is not up yet), and listens. */
export async function startParent(
  config: Readonly<Config>,
  logger: Logger,
  options: StartOptions = {},
): Promise<Parent> {
  const store = await openParentStore(config, logger, options.databaseWait);
  try {
    const { services, notifier } = await createParentServices(config, store, logger, options);
    const app = await buildApp({ services, logger });
    // Stops what runs, in order (the store is closed after it): both a close and a start that fails half way use
    // it, so a failed start leaves no timer or listener behind to keep the process alive.
    const stopServices = async () => {
      services.readiness.markStopping();
      await services.scheduler.stop();
      await services.sweeper.stop();
      await services.deliverySender.stop();
      services.claimer.shutdown();
      await app.close();
      await notifier.settled();
      await services.events.close();
    };
    try {
      await app.listen({ host: config.host, port: config.port });
      services.sweeper.start();
      if (config.scheduler.enabled) await services.scheduler.start();
      if (config.delivery.enabled) services.deliverySender.start();
    } catch (error) {
      await stopServices().catch((closeError: unknown) =>
        logger.error({ err: closeError }, 'could not stop cleanly after a failed start'),
      );
      throw error;
    }
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
        closing ??= stopServices().then(() => store.close());
        return closing;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
