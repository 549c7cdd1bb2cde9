import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { CascadeError } from '../errors/cascade-error.js';

export const UserRole = Object.freeze({ admin: 'admin', viewer: 'viewer' } as const);
export type UserRole = (typeof UserRole)[keyof typeof UserRole];

export type TokenClaims = { sub: string; username: string; role: UserRole; exp: number; generation: number };

/**
 * HS256 tokens with claims `sub` (user id), `username`, `role`, `exp` and `gen`, the user's token generation
 * when it was issued (a token from before generations existed counts as generation 0).
 */
export class JwtSigner {
  readonly #key: Uint8Array;
  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  async sign(
    user: { id: string; username: string; role: UserRole; tokenGeneration: number },
    ttlSeconds: number,
  ): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await new SignJWT({ username: user.username, role: user.role, gen: user.tokenGeneration })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.#key);
    return { token, expiresAt };
  }

  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'] });
      const role = payload.role;
      if (
        typeof payload.sub !== 'string' ||
        (role !== 'admin' && role !== 'viewer') ||
        typeof payload.exp !== 'number'
      ) {
        throw new CascadeError('UNAUTHENTICATED', 'The token lacks the claims sub, role and exp; log in again.');
      }
      const generation = typeof payload.gen === 'number' ? payload.gen : 0;
      return { sub: payload.sub, username: String(payload.username ?? ''), role, exp: payload.exp, generation };
    } catch (error) {
      if (error instanceof CascadeError) throw error;
      const message =
        error instanceof joseErrors.JWTExpired
          ? 'The token has expired; log in again.'
          : 'The token is invalid (bad signature or format); log in again.';
      throw new CascadeError('UNAUTHENTICATED', message);
    }
  }
}
