import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { UserRole } from '../../auth/jwt.js';
import {
  bodySha256,
  canonicalRequest,
  isSignedHeader,
  parseSignedHeader,
  signatureMatches,
  type SignedHeader,
} from '../../auth/request-signature.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { NodeRecord } from '../../store/nodes.js';

export type UserPrincipal = { kind: 'user'; id: string; username: string; role: UserRole };
export type NodePrincipal = { kind: 'node'; node: NodeRecord };
export type Principal = UserPrincipal | NodePrincipal;

/** A signed request whose header, timestamp and node passed; the signature waits for the body (see signedChildRequests). */
type PendingSignature = { header: SignedHeader; node: NodeRecord; secret: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    pendingSignature?: PendingSignature;
    /** Hex SHA-256 of the body bytes as received, set by the child routes' JSON parser. */
    bodySha256?: string;
  }
}

const AKSK = /^AK-SK\s+(\S+?):(\S+)$/i;
const BEARER = /^Bearer\s+(\S+)$/i;

/** Failed node authentications, plain or signed, are limited per client address (NodeAuthFailures). */
function refuseWhileLimited(request: FastifyRequest): void {
  const wait = request.server.services.nodeAuthFailures.retryAfterSeconds(request.ip);
  if (wait > 0) {
    throw new CascadeError(
      'RATE_LIMITED',
      `Too many failed node authentications from this address; try again in ${wait} s.`,
      { headers: { 'retry-after': String(wait) } },
    );
  }
}

async function authenticate(request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header)
    throw new CascadeError(
      'UNAUTHENTICATED',
      'Send Authorization: Bearer <token> (users) or AK-SK <key>:<secret> (child nodes).',
    );
  const { store, jwt, nodeAuthFailures } = request.server.services;
  const aksk = AKSK.exec(header);
  if (aksk) {
    refuseWhileLimited(request);
    const apiKey = aksk[1] as string;
    const node = await store.nodes.authenticate(apiKey, aksk[2] as string);
    if (!node) {
      nodeAuthFailures.record(request.ip, apiKey, request.log);
      throw new CascadeError(
        'UNAUTHENTICATED',
        'Unknown, rotated or disabled node credentials; check api_key and api_secret.',
      );
    }
    if (node.requireSigned) {
      throw new CascadeError(
        'SIGNED_REQUEST_REQUIRED',
        'This node accepts only signed requests (Authorization: AK-SK-HMAC …); the plain AK-SK header is turned off for it.',
      );
    }
    return { kind: 'node', node };
  }
  if (isSignedHeader(header))
    throw new CascadeError('FORBIDDEN', 'Child node credentials cannot call management endpoints; use a user token.');
  const bearer = BEARER.exec(header);
  if (bearer) {
    const claims = await jwt.verify(bearer[1] as string);
    const user = await store.users.findByUsername(claims.username);
    if (!user || user.id !== claims.sub || !user.isActive) {
      throw new CascadeError(
        'UNAUTHENTICATED',
        'The user of this token no longer exists or is disabled; log in again.',
      );
    }
    if (user.tokenGeneration !== claims.generation) {
      throw new CascadeError(
        'UNAUTHENTICATED',
        "The token was issued before the user's password or active flag changed; log in again.",
      );
    }
    return { kind: 'user', id: user.id, username: user.username, role: user.role };
  }
  throw new CascadeError('UNAUTHENTICATED', 'Unsupported Authorization scheme; use Bearer or AK-SK.');
}

export type Access = 'read' | 'write' | 'admin';

/** Management routes: a user; `write` and `admin` need the admin role (viewers only read). */
export function requireUser(access: Access): onRequestAsyncHookHandler {
  return async function userGuard(request: FastifyRequest, _reply: FastifyReply) {
    const principal = await authenticate(request);
    if (principal.kind !== 'user')
      throw new CascadeError('FORBIDDEN', 'Child node credentials cannot call management endpoints; use a user token.');
    if (access !== 'read' && principal.role !== 'admin')
      throw new CascadeError('FORBIDDEN', 'This needs the admin role; viewers may only read.');
    request.principal = principal;
  };
}

/**
 * First half of a signed request's check, before the body is read: the header's form, the timestamp window and the
 * node. Nothing is recorded yet, so a request refused later (bad signature) does not burn its nonce.
 */
async function admitSignedHeader(request: FastifyRequest, value: string): Promise<PendingSignature> {
  refuseWhileLimited(request);
  const header = parseSignedHeader(value);
  if ('error' in header) throw new CascadeError('SIGNATURE_INVALID', `Malformed AK-SK-HMAC header: ${header.error}.`);
  const { store, config, nodeAuthFailures } = request.server.services;
  const windowSeconds = config.auth.signature_window_seconds;
  if (Math.abs(Date.now() / 1000 - header.ts) > windowSeconds) {
    throw new CascadeError(
      'SIGNATURE_EXPIRED',
      `The request's timestamp is more than ${windowSeconds} s from the parent's clock; check the child's clock (NTP).`,
    );
  }
  const found = await store.nodes.forSignedRequest(header.apiKey);
  if (!found) {
    nodeAuthFailures.record(request.ip, header.apiKey, request.log);
    throw new CascadeError('UNAUTHENTICATED', 'Unknown, rotated or disabled node credentials; check api_key.');
  }
  if (found.secret === undefined) {
    throw new CascadeError(
      'SIGNING_UNAVAILABLE',
      'The parent keeps no verifiable secret for this node (created before request signing); rotate its credentials to enable signed requests.',
    );
  }
  return { header, node: found.node, secret: found.secret };
}

/** Second half, once the body is read: the signature over method, path, timestamp, nonce and body, then the nonce. */
async function verifySignedRequest(request: FastifyRequest): Promise<void> {
  const pending = request.pendingSignature;
  if (!pending) return;
  const { header, node, secret } = pending;
  const canonical = canonicalRequest(
    request.method,
    request.url,
    header.ts,
    header.nonce,
    request.bodySha256 ?? bodySha256(undefined),
  );
  if (!signatureMatches(secret, canonical, header.sig)) {
    request.server.services.nodeAuthFailures.record(request.ip, header.apiKey, request.log);
    throw new CascadeError(
      'SIGNATURE_INVALID',
      'The signature does not match this request (method, path and query, timestamp, nonce and body as sent).',
    );
  }
  const { store, config } = request.server.services;
  const now = Date.now();
  if (
    !(await store.nodes.rememberNonce(
      node.id,
      header.nonce,
      header.ts * 1000 + config.auth.signature_window_seconds * 1000,
      now,
    ))
  ) {
    throw new CascadeError(
      'NONCE_REUSED',
      'This nonce was already used by this node: a replayed request is refused. Send every request with a new nonce.',
    );
  }
  request.principal = { kind: 'node', node };
}

/**
 * In a plugin with child routes: keeps the hash of every JSON body's bytes and checks signed requests before the
 * route's own hooks see the body. A route handler only runs once the principal is set, so a signed request is never
 * served before its signature and nonce pass.
 */
export function signedChildRequests(app: FastifyInstance): void {
  app.addHook('preValidation', verifySignedRequest);
}

/** Child routes: an active node with valid AK-SK credentials, plain or signed (the signed check ends in preValidation). */
export const requireNode: onRequestAsyncHookHandler = async function nodeGuard(request: FastifyRequest) {
  const header = request.headers.authorization;
  if (header && isSignedHeader(header)) {
    request.pendingSignature = await admitSignedHeader(request, header);
    return;
  }
  const principal = await authenticate(request);
  if (principal.kind !== 'node')
    throw new CascadeError('FORBIDDEN', 'User tokens cannot call child endpoints; use node AK-SK credentials.');
  request.principal = principal;
};

export function userOf(request: FastifyRequest): UserPrincipal {
  const p = request.principal;
  if (!p || p.kind !== 'user') throw new CascadeError('UNAUTHENTICATED', 'Not authenticated as a user.');
  return p;
}

export function nodeOf(request: FastifyRequest): NodeRecord {
  const p = request.principal;
  if (!p || p.kind !== 'node') throw new CascadeError('UNAUTHENTICATED', 'Not authenticated as a node.');
  return p.node;
}
