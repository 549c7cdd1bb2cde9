import { pino } from 'pino';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isLoopback } from '../domain/loopback.js';
import { resolveChildSettings } from './child-settings.js';
import type { HeartbeatAnswer } from '../protocol/parent-messages.js';
import { NO_RETRY, ParentClient, ParentRejection, describe } from './parent-client.js';

export type ChildCheckResult = {
  ok: boolean;
  /** Settings that work but expose something, such as the node secret in clear text. */
  warnings: string[];
  /** One entry per configured parent URL, in order. */
  parents: Array<{
    url: string;
    ok: boolean;
    node_id?: string;
    node_name?: string;
    round_trip_ms?: number;
    error?: string;
  }>;
};

/**
 * For `cascade check` on a child: proves the key pair against every configured parent with one heartbeat (the
 * cheapest authenticated call) and measures the round trip. Missing settings are reported, not thrown.
 */
export async function checkChild(config: Readonly<Config>, timeoutMs = 10_000): Promise<ChildCheckResult> {
  let settings;
  try {
    settings = resolveChildSettings(config);
  } catch (error) {
    if (error instanceof ConfigError)
      return { ok: false, warnings: [], parents: [{ url: '-', ok: false, error: error.problems.join('; ') }] };
    throw error;
  }
  const logger = pino({ level: 'silent' });
  const parents: ChildCheckResult['parents'] = [];
  for (const url of settings.parentUrls) {
    const client = new ParentClient({
      urls: [url],
      apiKey: settings.apiKey,
      apiSecret: settings.apiSecret,
      signing: settings.requestSigning,
      logger,
      requestTimeoutMs: timeoutMs,
    });
    const started = performance.now();
    try {
      const answer = await client.request<HeartbeatAnswer>('POST', '/heartbeat', { body: {}, retry: NO_RETRY });
      parents.push({
        url,
        ok: true,
        node_id: answer.node_id,
        node_name: answer.node_name ?? answer.node_id,
        round_trip_ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      const roundTripMs = Math.round(performance.now() - started);
      const reason =
        error instanceof ParentRejection && error.status === 401
          ? 'credentials rejected (401): wrong api_key/api_secret, rotated, or the node is disabled'
          : describe(error);
      parents.push({ url, ok: false, round_trip_ms: roundTripMs, error: reason });
    }
  }
  return { ok: parents.some((p) => p.ok), warnings: cleartextParentWarnings(settings.parentUrls), parents };
}

/**
 * A child sends its api_secret with every request, so a plain `http://` parent URL to another host shows the
 * secret to everyone on the path. Loopback stays quiet: the traffic never leaves the machine.
 */
export function cleartextParentWarnings(urls: readonly string[]): string[] {
  return urls.flatMap((url) => {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed?.protocol !== 'http:' || isLoopback(parsed.hostname)) return [];
    return [`${url}: plain http to another host sends api_secret in clear text; use https (see docs/security.md)`];
  });
}
