import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { UserRole } from '../../auth/jwt.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { NodeTable } from '../../store/tables.js';

export type UserPrincipal = { kind: 'user'; id: string; username: string; role: UserRole };
export type NodePrincipal = { kind: 'node'; node: NodeTable };
export type Principal = UserPrincipal | NodePrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const AKSK = /^AK-SK\s+(\S+?):(\S+)$/i;
const BEARER = /^Bearer\s+(\S+)$/i;

async function authenticate(request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) throw new CascadeError('UNAUTHENTICATED', 'Send Authorization: Bearer <token> (users) or AK-SK <key>:<secret> (child nodes).');
  const { store, jwt, nodeAuthFailures } = request.server.services;
  const aksk = AKSK.exec(header);
  if (aksk) {
    const wait = nodeAuthFailures.retryAfterSeconds(request.ip);
    if (wait > 0) {
      throw new CascadeError('RATE_LIMITED', `Too many failed node authentications from this address; try again in ${wait} s.`, { headers: { 'retry-after': String(wait) } });
    }
    const apiKey = aksk[1] as string;
    const node = await store.nodes.authenticate(apiKey, aksk[2] as string);
    if (!node) {
      nodeAuthFailures.record(request.ip, apiKey, request.log);
      throw new CascadeError('UNAUTHENTICATED', 'Unknown, rotated or disabled node credentials; check api_key and api_secret.');
    }
    return { kind: 'node', node };
  }
  const bearer = BEARER.exec(header);
  if (bearer) {
    const claims = await jwt.verify(bearer[1] as string);
    const user = await store.users.findByUsername(claims.username);
    if (!user || user.id !== claims.sub || Number(user.is_active) !== 1) {
      throw new CascadeError('UNAUTHENTICATED', 'The user of this token no longer exists or is disabled; log in again.');
    }
    if (Number(user.token_generation) !== claims.generation) {
      throw new CascadeError('UNAUTHENTICATED', "The token was issued before the user's password or active flag changed; log in again.");
    }
    return { kind: 'user', id: user.id, username: user.username, role: user.role as UserRole };
  }
  throw new CascadeError('UNAUTHENTICATED', 'Unsupported Authorization scheme; use Bearer or AK-SK.');
}

export type Access = 'read' | 'write' | 'admin';

/** Management routes: a user; `write` and `admin` need the admin role (viewers only read). */
export function requireUser(access: Access): onRequestAsyncHookHandler {
  return async function userGuard(request: FastifyRequest, _reply: FastifyReply) {
    const principal = await authenticate(request);
    if (principal.kind !== 'user') throw new CascadeError('FORBIDDEN', 'Child node credentials cannot call management endpoints; use a user token.');
    if (access !== 'read' && principal.role !== 'admin') throw new CascadeError('FORBIDDEN', 'This needs the admin role; viewers may only read.');
    request.principal = principal;
  };
}

/** Child routes: an active node with valid AK-SK credentials. */
export const requireNode: onRequestAsyncHookHandler = async function nodeGuard(request: FastifyRequest) {
  const principal = await authenticate(request);
  if (principal.kind !== 'node') throw new CascadeError('FORBIDDEN', 'User tokens cannot call child endpoints; use node AK-SK credentials.');
  request.principal = principal;
};

export function userOf(request: FastifyRequest): UserPrincipal {
  const p = request.principal;
  if (!p || p.kind !== 'user') throw new CascadeError('UNAUTHENTICATED', 'Not authenticated as a user.');
  return p;
}

export function nodeOf(request: FastifyRequest): NodeTable {
  const p = request.principal;
  if (!p || p.kind !== 'node') throw new CascadeError('UNAUTHENTICATED', 'Not authenticated as a node.');
  return p.node;
}
