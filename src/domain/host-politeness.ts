import { parse } from 'tldts';

/**
 * Per-host politeness (docs/politeness.md): the fleet as a whole fetches at most `maxInFlight` feeds of one host at
 * once, hands out work for a host at most once per `minIntervalMs`, and holds a host back while a `Retry-After` it
 * sent is running. Pure rules; store/allocations/host-slots.ts keeps the counts in the database.
 */

/** Limits for one host. */
export type HostLimits = { readonly maxInFlight: number; readonly minIntervalMs: number };

export type PolitenessRules = {
  readonly enabled: boolean;
  readonly defaults: HostLimits;
  /** Longest pause a reported `Retry-After` causes, in milliseconds (0: reports pause nothing). */
  readonly maxPauseMs: number;
  readonly hosts: ReadonlyMap<string, HostLimits>;
};

/** The settings as `politeness` in the config has them (src/config/schema.ts). */
export type PolitenessSettings = {
  enabled: boolean;
  max_in_flight_per_host: number;
  min_interval_ms_per_host: number;
  max_pause_seconds: number;
  hosts: Readonly<Record<string, { max_in_flight?: number | undefined; min_interval_ms?: number | undefined }>>;
};

/** No limits: what a store opened without politeness settings (most tests, tools) applies. */
export const NO_POLITENESS: PolitenessRules = Object.freeze({
  enabled: false,
  defaults: { maxInFlight: Number.MAX_SAFE_INTEGER, minIntervalMs: 0 },
  maxPauseMs: 0,
  hosts: new Map(),
});

export function politenessRules(settings: PolitenessSettings | undefined): PolitenessRules {
  if (!settings) return NO_POLITENESS;
  const defaults = { maxInFlight: settings.max_in_flight_per_host, minIntervalMs: settings.min_interval_ms_per_host };
  const hosts = new Map(
    Object.entries(settings.hosts).map(([host, o]) => [
      host.toLowerCase(),
      {
        maxInFlight: o.max_in_flight ?? defaults.maxInFlight,
        minIntervalMs: o.min_interval_ms ?? defaults.minIntervalMs,
      },
    ]),
  );
  return { enabled: settings.enabled, defaults, maxPauseMs: settings.max_pause_seconds * 1000, hosts };
}

export function limitsFor(rules: PolitenessRules, host: string): HostLimits {
  return rules.hosts.get(host) ?? rules.defaults;
}

/**
 * The key a feed's host is counted under: its registrable domain (`feeds.example.co.uk` → `example.co.uk`), or the
 * host itself when it has none (an IP literal, `localhost`, a name under no public suffix). Undefined for a URL
 * without a host; such a feed is not counted.
 */
export function hostKeyOf(url: string): string | undefined {
  const parsed = parse(url, { allowPrivateDomains: false });
  const hostname = parsed.hostname?.replace(/^\[|\]$/g, '').toLowerCase();
  if (!hostname) return undefined;
  if (parsed.isIp) return hostname;
  return (parsed.domain ?? hostname).toLowerCase();
}

/** Config keys that are not what hosts are counted under (`www.example.com`): the override would never apply. */
export function politenessConfigProblems(settings: PolitenessSettings): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(settings.hosts)) {
    const counted = hostKeyOf(`http://${key.includes(':') && !key.startsWith('[') ? `[${key}]` : key}/`);
    if (counted !== key.toLowerCase()) {
      problems.push(
        counted === undefined
          ? `politeness.hosts.${key}: not a host name or IP address`
          : `politeness.hosts.${key}: hosts are counted by registrable domain; use '${counted}' (it covers ${key})`,
      );
    }
  }
  return problems;
}

/** Feeds per host an allocation fetches from, from its feeds' URLs. */
export function hostsOfFeeds(urls: readonly string[]): Map<string, number> {
  const hosts = new Map<string, number>();
  for (const url of urls) {
    const host = hostKeyOf(url);
    if (host !== undefined) hosts.set(host, (hosts.get(host) ?? 0) + 1);
  }
  return hosts;
}

/** What the database holds for a host (no row: nothing in flight, never fetched, not paused). */
export type HostState = { inFlight: number; lastFetchAt: number | null; pausedUntil: number | null };

/** Why work for a host waits, and when the wait ends by itself (undefined: when fetches in flight end). */
export type HostWait = { note: string; readyAt: number | undefined };

/**
 * Whether `feeds` more fetches of `host` may be handed out now, or why not: the waiting note of the allocation's
 * placement. An allocation with more feeds of the host than the limit goes out only when none are in flight, so it
 * is not held back forever.
 */
export function whyWaiting(
  host: string,
  feeds: number,
  state: HostState,
  limits: HostLimits,
  nowMs: number,
): HostWait | undefined {
  if (state.pausedUntil !== null && state.pausedUntil > nowMs) {
    return {
      note: `waiting: host ${host} asked to be left alone (Retry-After) until ${new Date(state.pausedUntil).toISOString()}`,
      readyAt: state.pausedUntil,
    };
  }
  if (state.inFlight > 0 && state.inFlight + feeds > limits.maxInFlight) {
    return {
      note: `waiting: host ${host} has ${state.inFlight} fetch${state.inFlight === 1 ? '' : 'es'} in flight (limit ${limits.maxInFlight})`,
      readyAt: undefined,
    };
  }
  if (state.lastFetchAt !== null && limits.minIntervalMs > 0 && nowMs < state.lastFetchAt + limits.minIntervalMs) {
    return {
      note: `waiting: host ${host} was handed a fetch less than ${limits.minIntervalMs} ms ago (its min interval)`,
      readyAt: state.lastFetchAt + limits.minIntervalMs,
    };
  }
  return undefined;
}

/** How long a reported `Retry-After` pauses its host: as asked, within the configured maximum. */
export function pauseUntil(retryAfterSeconds: number, rules: PolitenessRules, nowMs: number): number | undefined {
  if (!rules.enabled || rules.maxPauseMs === 0 || !(retryAfterSeconds > 0)) return undefined;
  return nowMs + Math.min(retryAfterSeconds * 1000, rules.maxPauseMs);
}
