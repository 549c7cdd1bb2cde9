/**
 * The one error type callers can act on. Each code has a fixed HTTP status so the HTTP layer can map any
 * CascadeError to the protocol envelope in one place (src/parent/plugins/error-envelope.ts).
 */
export const ErrorCode = Object.freeze({
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  /** Signed request (AK-SK-HMAC): the signature does not match the method, path, body, timestamp or nonce sent. */
  SIGNATURE_INVALID: 401,
  /** Signed request whose timestamp is outside the parent's window (`auth.signature_window_seconds`). */
  SIGNATURE_EXPIRED: 401,
  /** Signed request whose nonce this node already used inside the window: a replay. */
  NONCE_REUSED: 401,
  /** Signed request from a node whose secret the parent does not keep (created before signing; rotate it). */
  SIGNING_UNAVAILABLE: 401,
  /** Plain AK-SK header for a node that accepts only signed requests. */
  SIGNED_REQUEST_REQUIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  LEASE_LOST: 409,
  INVALID_TRANSITION: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
} as const);

export type ErrorCodeName = keyof typeof ErrorCode;

export type ErrorDetail = { path: string; message: string };

export class CascadeError extends Error {
  readonly code: ErrorCodeName;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  /** Extra headers the HTTP layer should send (for example Retry-After). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCodeName,
    message: string,
    options: { details?: ErrorDetail[]; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CascadeError';
    this.code = code;
    this.status = ErrorCode[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function notFound(what: string, id: string): CascadeError {
  return new CascadeError('NOT_FOUND', `${what} '${id}' does not exist.`);
}

export function validationFailed(details: ErrorDetail[]): CascadeError {
  const summary = details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ');
  return new CascadeError('VALIDATION_FAILED', `The request is invalid: ${summary}`, { details });
}
