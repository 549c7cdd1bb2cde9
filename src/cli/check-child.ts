import { parentUrls } from '../config/load.js';
import type { Config } from '../config/schema.js';

export type ChildCheckResult = {
  ok: boolean;
  /** One line per parent URL tried, in order. */
  parents: Array<{ url: string; ok: boolean; node_id?: string | undefined; node_name?: string; round_trip_ms?: number; error?: string }>;
};

const TIMEOUT_MS = 10_000;

/**
 * Authenticates a child's credentials against each configured parent with one heartbeat (the cheapest call that
 * proves the key pair), measuring the round trip. Used by `cascade check` until the child module provides its own.
 */
export async function checkChild(config: Readonly<Config>): Promise<ChildCheckResult> {
  const { api_key: apiKey, api_secret: apiSecret } = config.cascade;
  const urls = parentUrls(config);
  const missing = [
    urls.length === 0 ? 'cascade.parent_api_url (CASCADE_PARENT_API_URL)' : undefined,
    apiKey ? undefined : 'cascade.api_key (CASCADE_API_KEY)',
    apiSecret ? undefined : 'cascade.api_secret (CASCADE_API_SECRET)',
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) return { ok: false, parents: [{ url: urls[0] ?? '-', ok: false, error: `missing setting: ${missing.join(', ')}` }] };
  const parents: ChildCheckResult['parents'] = [];
  for (const url of urls) parents.push(await heartbeatOnce(url, `${apiKey}:${apiSecret}`));
  return { ok: parents.some((p) => p.ok), parents };
}

async function heartbeatOnce(baseUrl: string, pair: string): Promise<ChildCheckResult['parents'][number]> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}/api/v1/cascade/heartbeat`, {
      method: 'POST',
      headers: { authorization: `AK-SK ${pair}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const roundTripMs = Math.round(performance.now() - started);
    const body = (await response.json().catch(() => undefined)) as { message?: string; data?: { node_id?: string; node_name?: string } } | undefined;
    if (response.status === 401) return { url: baseUrl, ok: false, round_trip_ms: roundTripMs, error: 'credentials rejected (401): wrong api_key/api_secret, rotated, or the node is disabled' };
    if (!response.ok) return { url: baseUrl, ok: false, round_trip_ms: roundTripMs, error: `HTTP ${response.status}: ${body?.message ?? response.statusText}` };
    return { url: baseUrl, ok: true, node_id: body?.data?.node_id, node_name: String(body?.data?.node_name ?? body?.data?.node_id ?? '?'), round_trip_ms: roundTripMs };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : cause ? `unreachable (${cause})` : (error as Error).message;
    return { url: baseUrl, ok: false, error: reason };
  }
}
