import { retryAfterSeconds } from '../net/retry-after.js';

/**
 * Every outbound request of deliveries goes through here, so the network policy (which addresses may be reached)
 * applies in one place: pass its guarded `fetch` as `fetchImpl`. Redirects are not followed: a receiver that
 * redirects has not received, and following would carry signatures to an origin the task did not name.
 */
export type HttpRequest = { url: string; headers: Record<string, string>; body: string; timeoutMs: number };

/** What the receiver said; `status` 0 with `error` when it said nothing (timeout, refused, reset). */
export type HttpAnswer = {
  status: number;
  body: string;
  retryAfterSeconds: number | undefined;
  error: string | undefined;
};

export type HttpSend = (request: HttpRequest) => Promise<HttpAnswer>;

const KEPT_BODY_BYTES = 4096;

export function createHttpSend(fetchImpl: typeof fetch = fetch): HttpSend {
  return async ({ url, headers, body, timeoutMs }) => {
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = (await response.text()).slice(0, KEPT_BODY_BYTES);
      return {
        status: response.status,
        body: text,
        retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
        error: undefined,
      };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const message =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : `${error instanceof Error ? error.message : String(error)}${cause}`;
      return { status: 0, body: '', retryAfterSeconds: undefined, error: message };
    }
  };
}
