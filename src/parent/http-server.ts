import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerConfig } from '../config/schema.js';
import { RateLimitedLog, type WarnLogger } from '../logger.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * How often Node looks for requests past `headersTimeout` / `requestTimeout`. Node's default (30 s) would let a
 * slow client hold its socket up to 30 s beyond the timeout; one pass over the open connections per second is cheap.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** The PEM pair named by `server.tls`, read now (at start and on SIGHUP). */
export function readTlsFiles(tls: ServerConfig['tls']): { cert: Buffer; key: Buffer } | undefined {
  if (tls.cert === undefined || tls.key === undefined) return undefined;
  return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
}

/**
 * The parent's listening server, for Fastify's `serverFactory`: HTTP, or HTTPS when `server.tls` names a pair.
 * Every phase a client controls is bounded (TLS handshake, headers, whole request, idle keep-alive), and at most
 * `max_connections` sockets are open at once, so slow or idle clients cannot exhaust the file descriptors that
 * children and health checks need. Node's `requestTimeout` covers receiving the request only, so a long-poll
 * claim, which waits after its request has arrived, is not cut by it.
 */
export function createParentServer(settings: ServerConfig, handler: Handler, logger: WarnLogger): Server {
  const timeouts = {
    requestTimeout: settings.request_timeout_seconds * 1000,
    headersTimeout: settings.headers_timeout_seconds * 1000,
    keepAliveTimeout: settings.keep_alive_timeout_seconds * 1000,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const tls = readTlsFiles(settings.tls);
  // An https.Server answers requests exactly as an http.Server does; Fastify's types only know one of them.
  const server = tls
    ? (createHttpsServer(
        { ...timeouts, ...tls, handshakeTimeout: timeouts.headersTimeout },
        handler,
      ) as unknown as Server)
    : createHttpServer(timeouts, handler);
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  if (settings.max_connections > 0) {
    server.maxConnections = settings.max_connections;
    const dropped = new RateLimitedLog(60_000);
    server.on('drop', (data?: { remoteAddress?: string }) => {
      dropped.warn(
        logger,
        { max_connections: settings.max_connections, remote_address: data?.remoteAddress },
        'connection refused: server.max_connections reached',
      );
    });
  }
  return server;
}
