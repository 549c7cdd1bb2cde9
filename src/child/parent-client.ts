import type { Logger } from 'pino';
import { signedAuthorization } from '../auth/request-signature.js';
import { backoffDelayMs, sleep } from './backoff.js';
import { nodeHttpTransport, type ParentTransport } from './http-transport.js';

export type RetryPolicy = { attempts: number; baseMs: number; maxMs: number };

/** Calls that carry results: a few quick retries, then the outbox takes over. */
const DELIVERY_RETRY: Readonly<RetryPolicy> = Object.freeze({ attempts: 4, baseMs: 300, maxMs: 4000 });
export const NO_RETRY: Readonly<RetryPolicy> = Object.freeze({ attempts: 1, baseMs: 0, maxMs: 0 });

/** The parent answered with a 4xx: retrying the same call cannot help (401, 404, 409 LEASE_LOST, 400…). */
export class ParentRejection extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'ParentRejection';
  }

  /**
   * The allocation is no longer ours to work on: requeued or given to another node (LEASE_LOST), unknown to this
   * node (404), or moved to a state where our work is not wanted, such as cancelled (INVALID_TRANSITION).
   */
  get leaseGone(): boolean {
    return this.status === 404 || this.code === 'LEASE_LOST' || this.code === 'INVALID_TRANSITION';
  }
}

/** No parent answered usefully (network error, timeout, 5xx, 429) within the retry policy. */
export class ParentUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParentUnreachable';
  }
}

export type ParentClientOptions = {
  urls: string[];
  apiKey: string;
  apiSecret: string;
  logger: Logger;
  /** How requests go out; `node:http` by default (see http-transport.ts). */
  transport?: ParentTransport;
  /** Per-request timeout, in milliseconds (long-poll calls add their wait). */
  requestTimeoutMs?: number;
  /** API prefix; the original child used `/api/v1/wx/cascade`. */
  basePath?: string;
  /** How to authenticate (config `cascade.request_signing`); `auto` by default. */
  signing?: RequestSigning;
};

/**
 * `auto`: sign every request (AK-SK-HMAC) and fall back to the plain header for the rest of the process when the
 * parent answers 401 to a signed request with a code that means it cannot verify signatures (see SIGNING_FALLBACK);
 * `always`: never send the secret; `off`: the plain header only.
 */
export type RequestSigning = 'auto' | 'always' | 'off';

/**
 * 401 codes after which `auto` retries plain: SIGNING_UNAVAILABLE (the parent keeps no verifiable secret for this
 * node, created before signing) and UNAUTHENTICATED or a bare 401 (a parent that does not know the scheme).
 * SIGNATURE_EXPIRED, SIGNATURE_INVALID and NONCE_REUSED are real refusals and never cause a fallback.
 */
const SIGNING_FALLBACK = new Set(['SIGNING_UNAVAILABLE', 'UNAUTHENTICATED', 'HTTP_401']);

export type RequestOptions = {
  body?: unknown;
  query?: Record<string, string | number>;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  extraTimeoutMs?: number;
};

/**
 * The child's only way to the parent: AK-SK auth, envelope unwrapping, retries with backoff and jitter, and
 * failover: a network error or 5xx moves to the next parent URL, and the one that answered stays preferred.
 */
export class ParentClient {
  private active = 0;
  /** When the parent stopped answering (every URL, after retries); undefined while it answers. */
  private unreachableSince: number | undefined;
  private readonly transport: ParentTransport;
  private readonly basePath: string;
  private signing: boolean;

  constructor(private readonly options: ParentClientOptions) {
    if (options.urls.length === 0) throw new Error('ParentClient needs at least one parent URL');
    this.transport = options.transport ?? nodeHttpTransport;
    this.basePath = options.basePath ?? '/api/v1/cascade';
    this.signing = (options.signing ?? 'auto') !== 'off';
  }

  /** Whether requests are signed now (false after an `auto` fallback to the plain header). */
  get signs(): boolean {
    return this.signing;
  }

  get currentUrl(): string {
    return this.options.urls[this.active] as string;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const policy = options.retry ?? DELIVERY_RETRY;
    let lastError: unknown;
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      if (options.signal?.aborted) break;
      const base = this.currentUrl;
      try {
        const data = await this.authenticated<T>(base, method, path, options);
        this.answered();
        return data;
      } catch (error) {
        if (error instanceof ParentRejection) {
          this.answered();
          throw error;
        }
        if (options.signal?.aborted) throw error;
        lastError = error;
        this.failOver(base, error);
        if (attempt + 1 < policy.attempts)
          await sleep(backoffDelayMs(attempt, policy.baseMs, policy.maxMs), options.signal);
      }
    }
    if (!options.signal?.aborted) this.unanswered(lastError);
    throw new ParentUnreachable(`parent unreachable for ${method} ${path}: ${describe(lastError)}`, {
      cause: lastError,
    });
  }

  /** Says once, clearly, that the parent stopped answering; the callers keep retrying with backoff. */
  private unanswered(error: unknown): void {
    if (this.unreachableSince !== undefined) return;
    this.unreachableSince = Date.now();
    this.options.logger.error(
      { parents: this.options.urls, reason: describe(error) },
      'parent unreachable; retrying with backoff (logged once, and once more when it answers again)',
    );
  }

  private answered(): void {
    if (this.unreachableSince === undefined) return;
    const downSeconds = Math.round((Date.now() - this.unreachableSince) / 1000);
    this.unreachableSince = undefined;
    this.options.logger.warn({ parent: this.currentUrl, unreachable_for_s: downSeconds }, 'parent reachable again');
  }

  /** One call, signed or plain; in `auto` mode a signed call the parent cannot verify is sent again plain, once. */
  private async authenticated<T>(base: string, method: string, path: string, options: RequestOptions): Promise<T> {
    if (!this.signing) return this.once<T>(base, method, path, options);
    try {
      return await this.once<T>(base, method, path, options);
    } catch (error) {
      const fallBack =
        (this.options.signing ?? 'auto') === 'auto' &&
        error instanceof ParentRejection &&
        error.status === 401 &&
        SIGNING_FALLBACK.has(error.code);
      if (!fallBack) throw error;
      this.signing = false;
      this.options.logger.warn(
        { parent: base, code: error.code },
        'the parent cannot verify signed requests from this node; using the plain AK-SK header (rotate the node to enable signing, or set cascade.request_signing: always to refuse this)',
      );
      return this.once<T>(base, method, path, options);
    }
  }

  private async once<T>(base: string, method: string, path: string, options: RequestOptions): Promise<T> {
    const url = new URL(`${base}${this.basePath}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value));
    const timeout = AbortSignal.timeout((this.options.requestTimeoutMs ?? 30_000) + (options.extraTimeoutMs ?? 0));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    // Signed afresh on every call: each retry, re-delivery from the outbox and long-poll gets its own nonce.
    const authorization = this.signing
      ? signedAuthorization(this.options.apiKey, this.options.apiSecret, method, `${url.pathname}${url.search}`, body)
      : `AK-SK ${this.options.apiKey}:${this.options.apiSecret}`;
    const headers: Record<string, string> = { authorization };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.transport(url, {
      method,
      headers,
      body,
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    const text = await response.text();
    if (response.status >= 300 && response.status < 400) {
      // Retried like an unreachable parent, so results stay in the outbox until the address is fixed.
      const target = response.headers.get('location');
      throw new Error(
        `HTTP ${response.status}: the parent redirects to ${target ?? 'another address'}; set cascade.parent_api_url to the address it redirects to (the child does not follow redirects)`,
      );
    }
    let envelope: { code?: number; message?: string; data?: unknown; error?: string } | undefined;
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      envelope = undefined;
    }
    // CONFLICT means the row changed while the parent worked on it: asking again is the fix.
    if (
      response.status >= 500 ||
      response.status === 429 ||
      response.status === 408 ||
      envelope?.error === 'CONFLICT'
    ) {
      throw new Error(`HTTP ${response.status}${envelope?.message ? `: ${envelope.message}` : ''}`);
    }
    if (response.status >= 400) {
      throw new ParentRejection(
        response.status,
        envelope?.error ?? `HTTP_${response.status}`,
        envelope?.message ?? text.slice(0, 200),
      );
    }
    if (!envelope || typeof envelope !== 'object')
      throw new Error(`parent answered ${response.status} with a body that is not JSON`);
    return envelope.data as T;
  }

  private failOver(failed: string, error: unknown): void {
    if (this.options.urls.length < 2 || this.currentUrl !== failed) return;
    this.active = (this.active + 1) % this.options.urls.length;
    // While every parent is down the client alternates between them on each try: one line per outage is enough.
    const level = this.unreachableSince === undefined ? 'warn' : 'debug';
    this.options.logger[level](
      { from: failed, to: this.currentUrl, reason: describe(error) },
      'parent not answering; failing over',
    );
  }
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
