import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed child requests (docs/protocol.md §1.4), next to the plain `AK-SK <key>:<secret>` header:
 *
 *   Authorization: AK-SK-HMAC key=<api_key>, ts=<unix seconds>, nonce=<16-64 of [A-Za-z0-9_-]>, sig=<hex>
 *
 * `sig` is HMAC-SHA256 under the node's API secret of the canonical string (lines joined by `\n`):
 *
 *   AK-SK-HMAC-SHA256
 *   <METHOD, upper case>
 *   <path and query exactly as sent, e.g. /api/v1/cascade/claim-task?wait=30&max=1>
 *   <ts>
 *   <nonce>
 *   <lower-case hex SHA-256 of the body bytes; of the empty string when there is no body>
 *
 * The secret never travels; a captured request is refused after the window and, inside it, for its reused nonce.
 */
const SIGNED_SCHEME = 'AK-SK-HMAC';
const ALGORITHM_LINE = 'AK-SK-HMAC-SHA256';

export type SignedHeader = { apiKey: string; ts: number; nonce: string; sig: string };

export function bodySha256(body: string | Buffer | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

export function canonicalRequest(
  method: string,
  pathAndQuery: string,
  ts: number,
  nonce: string,
  bodyHash: string,
): string {
  return [ALGORITHM_LINE, method.toUpperCase(), pathAndQuery, String(ts), nonce, bodyHash].join('\n');
}

function requestSignature(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('hex');
}

/** The header value for one request; each call draws a new nonce, so a retry is a new request. */
export function signedAuthorization(
  apiKey: string,
  secret: string,
  method: string,
  pathAndQuery: string,
  body: string | undefined,
  nowMs = Date.now(),
): string {
  const ts = Math.floor(nowMs / 1000);
  const nonce = randomBytes(18).toString('base64url');
  const sig = requestSignature(secret, canonicalRequest(method, pathAndQuery, ts, nonce, bodySha256(body)));
  return `${SIGNED_SCHEME} key=${apiKey}, ts=${ts}, nonce=${nonce}, sig=${sig}`;
}

const HEADER = /^AK-SK-HMAC\s+(.+)$/i;
const FIELDS: Record<keyof SignedHeader, RegExp> = {
  apiKey: /^[A-Za-z0-9_-]{1,128}$/,
  ts: /^\d{1,12}$/,
  nonce: /^[A-Za-z0-9_-]{16,64}$/,
  sig: /^[0-9a-f]{64}$/,
};
const NAMES = new Map<string, keyof SignedHeader>([
  ['key', 'apiKey'],
  ['ts', 'ts'],
  ['nonce', 'nonce'],
  ['sig', 'sig'],
]);

export function isSignedHeader(header: string): boolean {
  return HEADER.test(header);
}

/** The parsed fields, or a reason the header is malformed. */
export function parseSignedHeader(header: string): SignedHeader | { error: string } {
  const match = HEADER.exec(header);
  if (!match) return { error: `not an ${SIGNED_SCHEME} header` };
  const found: Partial<Record<keyof SignedHeader, string>> = {};
  for (const part of (match[1] as string).split(',')) {
    const eq = part.indexOf('=');
    const name = NAMES.get(part.slice(0, eq).trim());
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || !name || found[name] !== undefined || !FIELDS[name].test(value))
      return { error: `malformed field '${part.trim().slice(0, 40)}'` };
    found[name] = value;
  }
  const { apiKey, ts, nonce, sig } = found;
  if (!apiKey || !ts || !nonce || !sig) return { error: 'needs key, ts, nonce and sig' };
  return { apiKey, ts: Number(ts), nonce, sig };
}

export function signatureMatches(secret: string, canonical: string, sig: string): boolean {
  const expected = Buffer.from(requestSignature(secret, canonical), 'hex');
  const given = Buffer.from(sig, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
