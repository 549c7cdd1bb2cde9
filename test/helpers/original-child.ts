import { request } from 'node:http';

/**
 * The original Python child's HTTP calls, byte for byte as captured on the wire (issue 10): httpx 0.27 with
 * `Authorization: AK-SK key:secret`, `Content-Type: application/json` on every call (GETs and empty POSTs too),
 * `Content-Length: 0` on a POST or PUT without a body, and bodies serialised by Python's `json.dumps` (`", "` and
 * `": "` separators, non-ASCII escaped). Raw `node:http`, so nothing adds or normalises a header.
 */
export type OriginalAnswer<T = unknown> = {
  status: number;
  body: { code: number; message: string; data: T; error?: string };
};

/** Python's `datetime.now().isoformat()`: local time, no zone, six fraction digits. */
export function pythonTimestamp(at = new Date()): string {
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().replace('Z', '');
  return `${local}210`;
}

/** `json.dumps(value)` with Python's defaults. */
function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
    .join(', ')}}`;
}

export class OriginalChildClient {
  constructor(
    private readonly baseUrl: string,
    /** `/api/v1/wx/cascade` as the original, or `/api/v1/cascade`. */
    private readonly prefix: string,
    private readonly credentials: { api_key: string; api_secret: string },
  ) {}

  /** Sends one call; `body` undefined sends no body (`Content-Length: 0` on POST and PUT, none on GET). */
  send<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<OriginalAnswer<T>> {
    const url = new URL(`${this.baseUrl}${this.prefix}${path}`);
    const payload = body === undefined ? '' : pythonJson(body);
    const headers: Array<[string, string]> = [
      ['Host', url.host],
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip, deflate'],
      ['Connection', 'keep-alive'],
      ['User-Agent', 'python-httpx/0.27.0'],
      ['Authorization', `AK-SK ${this.credentials.api_key}:${this.credentials.api_secret}`],
      ['Content-Type', 'application/json'],
    ];
    if (method !== 'GET') headers.push(['Content-Length', String(Buffer.byteLength(payload))]);
    return new Promise((resolve, reject) => {
      const call = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method,
          headers: headers.flat(),
          setHost: false,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as OriginalAnswer<T>['body'] });
            } catch {
              reject(
                new Error(
                  `${method} ${path} answered ${response.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`,
                ),
              );
            }
          });
        },
      );
      call.on('error', reject);
      call.end(payload);
    });
  }
}
