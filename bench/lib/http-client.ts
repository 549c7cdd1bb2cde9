import { Agent, request as httpRequest } from 'node:http';

export type HttpAnswer<T = unknown> = {
  status: number;
  body: { code: number; message: string; data: T; error?: string };
};

/**
 * A small keep-alive HTTP/1.1 JSON client on node:http. Load generators use it instead of fetch so that the
 * client's own cost stays small and the same for every scenario.
 */
export class JsonClient {
  readonly #agent: Agent;
  readonly #base: URL;

  constructor(
    baseUrl: string,
    private readonly authorization: string,
    maxSockets = 64,
  ) {
    this.#base = new URL(baseUrl);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  call<T = unknown>(method: string, path: string, json?: unknown): Promise<HttpAnswer<T>> {
    const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          agent: this.#agent,
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          headers: {
            authorization: this.authorization,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as HttpAnswer<T>['body'],
              });
            } catch (error) {
              reject(error as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export function akSk(node: { api_key: string; api_secret: string }): string {
  return `AK-SK ${node.api_key}:${node.api_secret}`;
}

/** Logs in over the API and returns a bearer token. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const client = new JsonClient(baseUrl, '');
  try {
    const answer = await client.call<{ access_token: string }>('POST', '/api/v1/auth/login', { username, password });
    if (answer.status !== 200) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
    return `Bearer ${answer.body.data.access_token}`;
  } finally {
    client.close();
  }
}
