import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { NOTIFY_SIGNATURE_HEADER, NonceMemory, verifyNotify } from '../auth/notify-signature.js';
import type { NotifyMessage } from '../protocol/parent-messages.js';

export type HealthStatus = { state: string; in_flight_allocations: number; in_flight_feeds: number; outbox: number };

/** The parent's wake-up: verified with the node's notify key, then handed to `onNotify` (the agent claims at once). */
export type NotifyHandler = { key: string; onNotify: (message: NotifyMessage) => void };

const NOTIFY_PATHS = new Set(['/api/v1/cascade/notify', '/api/v1/wx/cascade/notify']);
/** A notify body is a few hundred bytes; anything much larger is not one. */
const NOTIFY_BODY_LIMIT_BYTES = 16 * 1024;

/**
 * The child's only listener, at the node's `api_url`: `GET /healthz`, which the parent's
 * `POST /nodes/{id}/test-connection` probes (200 while the agent runs, 503 while it drains; never credentials), and,
 * when a notify key is configured, the parent's signed `POST /api/v1/cascade/notify` (also under `/api/v1/wx`).
 */
export class HealthServer {
  readonly #server: Server;
  readonly #nonces = new NonceMemory();

  constructor(status: () => HealthStatus, notify?: NotifyHandler) {
    this.#server = createServer((request, response) => {
      const path = request.url?.split('?')[0] ?? '';
      if (request.method === 'POST' && NOTIFY_PATHS.has(path)) {
        this.#notify(request, response, notify);
        return;
      }
      if (request.method !== 'GET' || path !== '/healthz') {
        send(response, 404, { status: 'not found' });
        return;
      }
      const current = status();
      const healthy = current.state === 'running' || current.state === 'starting';
      send(response, healthy ? 200 : 503, { status: healthy ? 'ok' : current.state, role: 'child', ...current });
    });
  }

  /** Reads the body (bounded), verifies it, answers 401 for anything not signed by the parent, else wakes the agent. */
  #notify(request: IncomingMessage, response: ServerResponse, handler: NotifyHandler | undefined): void {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('error', () => response.destroy());
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= NOTIFY_BODY_LIMIT_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > NOTIFY_BODY_LIMIT_BYTES) {
        send(response, 413, {
          code: 413,
          message: 'A notify body is at most 16 KiB.',
          data: null,
          error: 'PAYLOAD_TOO_LARGE',
        });
        return;
      }
      if (!handler) {
        send(response, 401, {
          code: 401,
          message: 'This child has no notify key (cascade.notify_key); it cannot verify a notify.',
          data: null,
          error: 'UNAUTHENTICATED',
        });
        return;
      }
      const signature = request.headers[NOTIFY_SIGNATURE_HEADER];
      const check = verifyNotify(
        handler.key,
        Buffer.concat(chunks).toString('utf8'),
        Array.isArray(signature) ? signature[0] : signature,
        this.#nonces,
      );
      if (!check.ok) {
        send(response, 401, {
          code: 401,
          message: `Notify refused: ${check.reason}.`,
          data: null,
          error: 'UNAUTHENTICATED',
        });
        return;
      }
      handler.onNotify(check.message);
      send(response, 200, { code: 0, message: 'Claiming now.', data: null });
    });
  }

  /** Listens on `port` (0 picks a free one); resolves with the bound port. */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
