import { PermanentFeedError, type HttpValidators } from './types.js';

export type FetchLimits = {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
};

export const DEFAULT_FETCH_LIMITS: Readonly<FetchLimits> = Object.freeze({ timeoutMs: 20_000, maxBytes: 10 * 1024 * 1024, maxRedirects: 5 });

export type FetchRequest = {
  url: string;
  headers: Record<string, string>;
  validators?: HttpValidators | undefined;
  signal: AbortSignal;
  fetch: typeof fetch;
  limits: FetchLimits;
};

export type FetchOutcome =
  | { kind: 'not-modified'; finalUrl: string }
  | { kind: 'body'; finalUrl: string; body: string; contentType: string; validators: HttpValidators };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET with a timeout over the whole exchange (headers and body), a streamed body limit, and redirects followed by
 * hand so the count is ours and every hop gets the same headers.
 */
export async function fetchWithLimits(request: FetchRequest): Promise<FetchOutcome> {
  const timeout = AbortSignal.timeout(request.limits.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  const headers: Record<string, string> = { 'user-agent': 'cascade-child', accept: ACCEPT, ...request.headers };
  if (request.validators?.etag) headers['if-none-match'] = request.validators.etag;
  if (request.validators?.lastModified) headers['if-modified-since'] = request.validators.lastModified;
  let url = request.url;
  try {
    for (let hop = 0; ; hop++) {
      const response = await request.fetch(url, { headers, redirect: 'manual', signal });
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel();
        const location = response.headers.get('location');
        if (!location) throw new PermanentFeedError(`redirect ${response.status} without a Location header from ${url}`);
        if (hop + 1 > request.limits.maxRedirects) throw new PermanentFeedError(`too many redirects (more than ${request.limits.maxRedirects})`);
        url = new URL(location, url).toString();
        continue;
      }
      if (response.status === 304) {
        await response.body?.cancel();
        return { kind: 'not-modified', finalUrl: url };
      }
      if (!response.ok) {
        await response.body?.cancel();
        const reason = `HTTP ${response.status} ${response.statusText}`.trim();
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new PermanentFeedError(reason);
        throw new Error(reason);
      }
      const body = await readLimited(response, request.limits.maxBytes);
      return {
        kind: 'body',
        finalUrl: url,
        body,
        contentType: response.headers.get('content-type') ?? '',
        validators: { etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined },
      };
    }
  } catch (error) {
    if (timeout.aborted && !request.signal.aborted) throw new Error(`timed out after ${request.limits.timeoutMs / 1000} s fetching ${url}`, { cause: error });
    throw error;
  }
}

const ACCEPT = 'application/rss+xml, application/atom+xml, application/feed+json, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new PermanentFeedError(`body too large: ${declared} bytes, limit ${maxBytes}`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new PermanentFeedError(`body too large: more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

/** Task headers and cookies arrive as objects or JSON text (the original stored text); both become headers. */
export function taskRequestHeaders(headers: unknown, cookies: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(asRecord(headers))) result[name.toLowerCase()] = String(value);
  const cookieRecord = typeof cookies === 'string' && !cookies.trim().startsWith('{') ? undefined : asRecord(cookies);
  const cookieText = cookieRecord
    ? Object.entries(cookieRecord).map(([k, v]) => `${k}=${String(v)}`).join('; ')
    : String(cookies).trim();
  if (cookieText) result.cookie = result.cookie ? `${result.cookie}; ${cookieText}` : cookieText;
  return result;
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    if (!value.trim()) return {};
    try {
      return asRecord(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
