import { createHmac } from 'node:crypto';
import { tokensEqual } from './secrets.js';

/**
 * A user's feed read token, for `?token=` in subscription URLs: `<user id>.<HMAC>` keyed by the parent's signing
 * key over the user id and the user's `feed_token_version`. Nothing secret is stored: rotating bumps the version,
 * which turns every earlier URL of that user away. It grants reading feeds only, so an admin JWT never travels in
 * a URL.
 */
export function feedToken(signingKey: string, userId: string, version: number): string {
  const mac = createHmac('sha256', signingKey).update(`cascade-feed-token\n${userId}\n${version}`).digest('base64url');
  return `${userId}.${mac}`;
}

/** The user id a token names (to look the user up), or undefined when it is not shaped like a feed token. */
export function feedTokenUserId(token: string): string | undefined {
  const dot = token.lastIndexOf('.');
  return dot > 0 ? token.slice(0, dot) : undefined;
}

export function feedTokenValid(signingKey: string, token: string, userId: string, version: number): boolean {
  return tokensEqual(token, feedToken(signingKey, userId, version));
}
