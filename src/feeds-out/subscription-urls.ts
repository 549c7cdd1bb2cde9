import { feedToken } from '../auth/feed-token.js';
import type { Config } from '../config/schema.js';

/**
 * Where readers reach this parent: `output.base_url`, else the origin the request came to (an HTTP answer), else
 * the listen address with a wildcard read as 127.0.0.1 (the CLI).
 */
export function subscriptionBase(config: Pick<Config, 'output' | 'host' | 'port'>, requestOrigin?: string): string {
  if (config.output.base_url) return config.output.base_url.replace(/\/+$/, '');
  if (requestOrigin) return requestOrigin;
  return `http://${listenAuthority(config)}`;
}

/** `host:port` of the listen address, a wildcard read as 127.0.0.1 (what a client on this machine would dial). */
export function listenAuthority(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export type SubscriptionTarget = { kind: 'feed'; id: string } | { kind: 'task'; id: string } | { kind: 'all' };

export type SubscriptionUrls = { rss: string; atom: string; json: string; public: boolean };

/** The three subscription URLs of a target; with the user's feed token unless the feeds are public. */
export function subscriptionUrls(
  config: Pick<Config, 'output' | 'host' | 'port'>,
  target: SubscriptionTarget,
  user: { id: string; feedTokenVersion: number },
  signingKey: string,
  requestOrigin?: string,
): SubscriptionUrls {
  const path =
    target.kind === 'all'
      ? '/feeds/all'
      : target.kind === 'task'
        ? `/feeds/tasks/${encodeURIComponent(target.id)}`
        : `/feeds/${encodeURIComponent(target.id)}`;
  const query = config.output.public
    ? ''
    : `?token=${encodeURIComponent(feedToken(signingKey, user.id, user.feedTokenVersion))}`;
  const base = subscriptionBase(config, requestOrigin);
  return {
    rss: `${base}${path}.rss${query}`,
    atom: `${base}${path}.atom${query}`,
    json: `${base}${path}.json${query}`,
    public: config.output.public,
  };
}
