import { maxAgeFromCacheControl } from '../domain/feed-rhythm.js';
import { AddressRefusedError } from '../net/address-policy.js';
import { followRedirects, RedirectError } from '../net/redirects.js';
import { retryAfterSeconds } from '../net/retry-after.js';
import { PermanentFeedError, RetryLaterError, type HttpValidators } from './types.js';

export type FetchLimits = {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
};

export const DEFAULT_FETCH_LIMITS: Readonly<FetchLimits> = Object.freeze({
  timeoutMs: 20_000,
  maxBytes: 10 * 1024 * 1024,
  maxRedirects: 5,
});

export type FetchRequest = {
  url: string;
  headers: Record<string, string>;
  validators?: HttpValidators | undefined;
  signal: AbortSignal;
  fetch: typeof fetch;
  limits: FetchLimits;
};

/** `maxAgeSeconds`: the answer's `Cache-Control: max-age`, a hint of the feed's rhythm (docs/refresh.md). */
export type FetchOutcome =
  | { kind: 'not-modified'; finalUrl: string; maxAgeSeconds?: number | undefined }
  | {
      kind: 'body';
      finalUrl: string;
      body: string;
      contentType: string;
      validators: HttpValidators;
      maxAgeSeconds?: number | undefined;
    };

/**
 * GET with a timeout over the whole exchange (headers and body), a streamed body limit, and redirects followed by
 * hand so the count is ours. The task's headers and cookies (and the conditional-GET validators) go only to the
 * feed URL's origin: a redirect to another host, port or scheme (also https → http) gets none of them. A target the
 * network policy refuses fails for good with the policy's reason.
 */
export async function fetchWithLimits(request: FetchRequest): Promise<FetchOutcome> {
  const timeout = AbortSignal.timeout(request.limits.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  const originHeaders: Record<string, string> = { ...request.headers };
  if (request.validators?.etag) originHeaders['if-none-match'] = request.validators.etag;
  if (request.validators?.lastModified) originHeaders['if-modified-since'] = request.validators.lastModified;
  let url = request.url;
  try {
    const followed = await followRedirects({
      fetch: request.fetch,
      url,
      originHeaders,
      commonHeaders: { 'user-agent': 'cascade-child', accept: ACCEPT },
      maxRedirects: request.limits.maxRedirects,
      init: { signal },
    });
    url = followed.url;
    const response = followed.response;
    if (response.status === 304) {
      await response.body?.cancel();
      return {
        kind: 'not-modified',
        finalUrl: url,
        maxAgeSeconds: maxAgeFromCacheControl(response.headers.get('cache-control')),
      };
    }
    if (!response.ok) {
      await response.body?.cancel();
      const reason = `HTTP ${response.status} ${response.statusText}`.trim();
      // The server says when it will answer: the child waits that long rather than on the parent's backoff.
      const retryAfter =
        response.status === 429 || response.status === 503
          ? retryAfterSeconds(response.headers.get('retry-after'))
          : undefined;
      if (retryAfter !== undefined)
        throw new RetryLaterError(`${reason}, Retry-After ${retryAfter} s`, retryAfter * 1000);
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
        throw new PermanentFeedError(reason);
      throw new Error(reason);
    }
    const body = await readLimited(response, request.limits.maxBytes);
    return {
      kind: 'body',
      finalUrl: url,
      body,
      contentType: response.headers.get('content-type') ?? '',
      validators: {
        etag: response.headers.get('etag') ?? undefined,
        lastModified: response.headers.get('last-modified') ?? undefined,
      },
      maxAgeSeconds: maxAgeFromCacheControl(response.headers.get('cache-control')),
    };
  } catch (error) {
    if (timeout.aborted && !request.signal.aborted)
      throw new Error(`timed out after ${request.limits.timeoutMs / 1000} s fetching ${url}`, { cause: error });
    if (error instanceof RedirectError || error instanceof AddressRefusedError)
      throw new PermanentFeedError(error.message, { cause: error });
    throw error;
  }
}

const ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';

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
    ? Object.entries(cookieRecord)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('; ')
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
