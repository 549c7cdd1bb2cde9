import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';

export type TransportRequest = {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal: AbortSignal;
};
export type TransportResponse = {
  status: number;
  text(): Promise<string>;
  /** Where a 3xx answer points; the transport does not follow redirects. */
  headers: { get(name: 'location'): string | null };
};

/** What the parent client needs from HTTP. The global `fetch` fits this shape too. */
export type ParentTransport = (url: URL, request: TransportRequest) => Promise<TransportResponse>;

type RequestFn = (url: URL, options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;
let httpsRequest: Promise<RequestFn> | undefined;

/**
 * The child's calls to the parent over `node:http` rather than `fetch`: the first `fetch` initialises undici,
 * ~12 MB of resident memory that a child waiting for work would carry only for its heartbeats and long-polls
 * (docs/benchmarks.md, scenario 7). Feed fetches still use `fetch`, which then loads with the first feed.
 * Connections are kept alive by Node's global agents, as undici does for `fetch`.
 */
export const nodeHttpTransport: ParentTransport = async (url, { method, headers, body, signal }) => {
  const send: RequestFn =
    url.protocol === 'https:'
      ? await (httpsRequest ??= import('node:https').then((https) => https.request))
      : httpRequest;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const outgoing = {
      ...headers,
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    };
    const request = send(url, { method, headers: outgoing, signal }, (response) => {
      // The whole body is read here so that an abort or a dropped connection surfaces as this call's error.
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const location = response.headers.location ?? null;
        resolve({
          status: response.statusCode ?? 0,
          text: () => Promise.resolve(text),
          headers: { get: () => location },
        });
      });
    });
    request.once('error', reject);
    request.end(body);
  });
};
