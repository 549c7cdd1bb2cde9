import { ConfigSchema } from '../../../src/config/schema.js';
import type { CrawlArm } from './simulation.js';

/** The original system's refresh: the whole corpus dispatched every 15 minutes, placed on whichever node has room. */
export const FIXED_CRON_INTERVAL_MS = 15 * 60_000;

export const fixedCronArm: CrawlArm = {
  name: 'fixed-cron',
  dispatchEveryMs: FIXED_CRON_INTERVAL_MS,
  configOverrides: {},
};

/** The issue 17 features the fleet-aware arm needs, by the configuration section each one adds. */
const FLEET_AWARE_SECTIONS = ['politeness', 'refresh'] as const;

/** The sections of issue 17 this build lacks (empty: the fleet-aware arm can run). */
export function missingFleetAwareSections(): string[] {
  const present = new Set(Object.keys(ConfigSchema.properties));
  return FLEET_AWARE_SECTIONS.filter((section) => !present.has(section));
}

/**
 * The fleet-aware arm, or null with the reason when this build does not have the features it measures. Filled in
 * once per-host politeness (`politeness.*`) and due times (`refresh.*`) are on main.
 */
export function fleetAwareArm(): { arm: CrawlArm } | { arm: null; reason: string } {
  const missing = missingFleetAwareSections();
  if (missing.length > 0) return { arm: null, reason: `this build has no ${missing.map((s) => `\`${s}.*\``).join(' or ')} configuration (issue 17 items 1–2 not merged yet)` };
  return { arm: null, reason: 'the fleet-aware arm is not wired to the merged features yet' };
}
