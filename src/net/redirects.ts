/** Statuses whose Location is followed. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials; `fetch`'s own redirect handling would drop these on a cross-origin hop too. */
const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie'];

/** A redirect that cannot be followed (no Location, too many hops): retrying will not help. */
export class RedirectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedirectError';
  }
}

export type FollowOptions = {
  fetch: typeof fetch;
  url: string;
  /** Sent to the origin (scheme, host and port) of `url` only: credentials the operator configured for it. */
  originHeaders: Record<string, string>;
  /** Sent on every hop, including to other origins. */
  commonHeaders: Record<string, string>;
  maxRedirects: number;
  init?: Omit<RequestInit, 'headers' | 'redirect'>;
};

/**
 * Follows redirects by hand: the hop count is ours, each hop is a new request through `fetch` (a guarded fetch
 * checks every hop's address), and `originHeaders` go only to the first URL's origin, as browsers and curl do. A
 * hop from https to http is another origin, so a downgrade drops them too. Returns the first non-redirect answer.
 */
export async function followRedirects(options: FollowOptions): Promise<{ response: Response; url: string }> {
  const origin = new URL(options.url).origin;
  let url = options.url;
  let init = options.init ?? {};
  for (let hop = 0; ; hop++) {
    const sameOrigin = new URL(url).origin === origin;
    const headers = { ...options.commonHeaders, ...(sameOrigin ? options.originHeaders : {}) };
    const response = await options.fetch(url, { ...init, headers, redirect: 'manual' });
    if (!REDIRECT_STATUSES.has(response.status)) return { response, url };
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (!location) throw new RedirectError(`redirect ${response.status} without a Location header from ${url}`);
    if (hop + 1 > options.maxRedirects)
      throw new RedirectError(`too many redirects (more than ${options.maxRedirects})`);
    url = new URL(location, url).toString();
    // As fetch does: 303, and 301/302 after a POST, continue as a GET without the body.
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && init.method?.toUpperCase() === 'POST')
    ) {
      init = { ...init, method: 'GET', body: null };
    }
  }
}

/** Splits headers into the credentials that stay with their origin and the rest. */
export function splitCredentialHeaders(headers: Headers): {
  credentials: Record<string, string>;
  rest: Record<string, string>;
} {
  const credentials: Record<string, string> = {};
  const rest: Record<string, string> = {};
  for (const [name, value] of headers) (CREDENTIAL_HEADERS.includes(name) ? credentials : rest)[name] = value;
  return { credentials, rest };
}
