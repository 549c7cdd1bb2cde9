import { ConfigSchema } from '../../../src/config/schema.js';
import type { CorpusHost, FeedHints } from './corpus.js';

/** The original system's refresh: the whole corpus dispatched every 15 minutes, placed on whichever node has room. */
export const FIXED_CRON_INTERVAL_MS = 15 * 60_000;
/** The fleet-aware arm's cron: every minute, and each tick dispatches only the feeds that are due. */
const FLEET_AWARE_TICK_MS = 60_000;

/** How one arm runs the crawl: how often dispatch fires, the parent's configuration, and what a child reports. */
export type CrawlArm = {
  name: string;
  /** Dispatch of the corpus's task every this often (the cron tick), from the window's start. */
  dispatchEveryMs: number;
  /** Dispatch every feed on every tick, due or not (a build without due times always does). */
  force: boolean;
  /** Parent configuration for this arm (politeness, refresh bounds…), over the bench defaults. */
  configOverrides: Record<string, unknown>;
  /** Whether the child reports the feeds' refresh hints, and the Retry-After of a 429 it did not wait out. */
  childReports: { hints: boolean; retryAfter: boolean };
};

/** The issue 17 features the fleet-aware arm needs, by the configuration section each one adds. */
const FLEET_AWARE_SECTIONS = ['politeness', 'refresh'] as const;

function hasSection(section: string): boolean {
  return Object.keys(ConfigSchema.properties).includes(section);
}

/** The sections of issue 17 this build lacks (empty: the fleet-aware arm can run). */
function missingFleetAwareSections(): string[] {
  return FLEET_AWARE_SECTIONS.filter((section) => !hasSection(section));
}

/**
 * Today's behaviour: every feed on every tick (`force`: no due filter), no per-host politeness (turned off where the
 * build has it), and a child that reports neither hints nor Retry-After (as the original child).
 */
export function fixedCronArm(): CrawlArm {
  return {
    name: 'fixed-cron',
    dispatchEveryMs: FIXED_CRON_INTERVAL_MS,
    force: true,
    configOverrides: hasSection('politeness') ? { 'politeness.enabled': false } : {},
    childReports: { hints: false, retryAfter: false },
  };
}

/**
 * Per-host politeness (item 1) with each host's published rate as its override (`min_interval_ms` = the host's
 * window ÷ its limit: 2 s for 30 a minute, 6 s for 10 a minute), as an operator who knows the limits would set it;
 * in-flight at the default (2). Due times (item 2) with the default `refresh` bounds, on a cron every minute.
 * Children report the feeds' hints and every Retry-After, as the Cascade child does. Null, with the reason, on a
 * build that lacks either feature.
 */
export function fleetAwareArm(hosts: readonly CorpusHost[]): { arm: CrawlArm } | { arm: null; reason: string } {
  const missing = missingFleetAwareSections();
  if (missing.length > 0)
    return {
      arm: null,
      reason: `this build has no ${missing.map((s) => `\`${s}.*\``).join(' or ')} configuration (issue 17 items 1–2 not merged yet)`,
    };
  return {
    arm: {
      name: 'fleet-aware',
      dispatchEveryMs: FLEET_AWARE_TICK_MS,
      force: false,
      configOverrides: {
        'politeness.enabled': true,
        'politeness.hosts': Object.fromEntries(
          hosts.map((h) => [h.name, { min_interval_ms: Math.ceil(h.windowMs / h.limit) }]),
        ),
      },
      childReports: { hints: true, retryAfter: true },
    },
  };
}

/** A feed result's `refresh_hints` (issue 17 item 2's wire field), in seconds. */
export type RefreshHintsReport = { max_age_seconds?: number; ttl_seconds?: number; update_period_seconds?: number };

/** What a feed's answer says about its rhythm, as the Cascade child reports it; a 304 has headers only. */
export function refreshHintsOf(hints: FeedHints, status: 200 | 304): RefreshHintsReport | undefined {
  const out: RefreshHintsReport = {};
  if (hints.maxAgeSeconds !== undefined) out.max_age_seconds = hints.maxAgeSeconds;
  if (status === 200 && hints.ttlMinutes !== undefined) out.ttl_seconds = hints.ttlMinutes * 60;
  if (status === 200 && hints.updatePeriod !== undefined)
    out.update_period_seconds = { hourly: 3600, daily: 86_400, weekly: 604_800 }[hints.updatePeriod];
  return Object.keys(out).length > 0 ? out : undefined;
}
