import { createServer, type Server } from 'node:http';

export type HealthStatus = { state: string; in_flight_allocations: number; in_flight_feeds: number; outbox: number };

/**
 * The child's only listener: `GET /healthz`, which the parent's `POST /nodes/{id}/test-connection` probes at the
 * node's `api_url`. It answers 200 while the agent runs and 503 while it drains; it never exposes credentials.
 */
export class HealthServer {
  readonly #server: Server;

  constructor(status: () => HealthStatus) {
    this.#server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/healthz') {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not found' }));
        return;
      }
      const current = status();
      const healthy = current.state === 'running' || current.state === 'starting';
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: healthy ? 'ok' : current.state, role: 'child', ...current }));
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
