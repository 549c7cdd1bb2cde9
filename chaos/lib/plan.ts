import { createPrng, type Prng } from './prng.js';

/** What the chaos run does to the system; every choice comes from the seed, none from the clock. */
export const FAULT_KINDS = [
  'kill-child',
  'stop-child',
  'kill-parent',
  'stop-parent',
  'drop-responses',
  'reset-connections',
  'delay',
  'blackhole',
  'database-outage',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** `target`: a child's index, or the parent (process faults), or the database (its proxy). */
export type FaultEvent = {
  atMs: number;
  kind: FaultKind;
  target: number | 'parent' | 'database';
  durationMs: number;
  delayMs?: number;
};

/** A dispatch through the admin API; before it, the corpus gains `newArticles[i]` articles in feed i. */
export type DispatchEvent = { atMs: number; newArticles: Array<{ feed: number; count: number }> };

export type Plan = { faults: FaultEvent[]; dispatches: DispatchEvent[] };

export type PlanOptions = {
  seed: number;
  durationMs: number;
  children: number;
  feeds: number;
  leaseSeconds: number;
  /** Server stores only: SQLite has no connection to cut. */
  databaseFaults: boolean;
};

const WEIGHTS: Record<FaultKind, number> = {
  'kill-child': 3,
  'stop-child': 2,
  'kill-parent': 1,
  'stop-parent': 1,
  'drop-responses': 3,
  'reset-connections': 2,
  delay: 2,
  blackhole: 2,
  'database-outage': 2,
};

/** How long a fault lasts, in ms; a stop always outlasts the lease, so the sweeper takes the work back. */
function durationOf(kind: FaultKind, prng: Prng, leaseMs: number): number {
  switch (kind) {
    case 'kill-child':
      return prng.int(300, 3000);
    case 'kill-parent':
      return prng.int(500, 3000);
    case 'stop-child':
      return leaseMs + prng.int(1000, 4000);
    case 'stop-parent':
      return leaseMs + prng.int(500, 3000);
    case 'reset-connections':
      return 0;
    case 'drop-responses':
      return prng.int(1000, 4000);
    case 'delay':
      return prng.int(1000, 5000);
    case 'blackhole':
    case 'database-outage':
      return prng.int(2000, 6000);
  }
}

function targetKind(kind: FaultKind): 'child' | 'parent' | 'database' {
  if (kind === 'kill-parent' || kind === 'stop-parent') return 'parent';
  if (kind === 'database-outage') return 'database';
  return 'child';
}

/**
 * The whole run decided up front from the seed: a fault every 1.5–4 s, never two at once on the same target (a
 * child's process and its connection count as one target), and a dispatch every 2–5 s that first grows the corpus.
 */
export function planRun(options: PlanOptions): Plan {
  const prng = createPrng(options.seed);
  const weights = { ...WEIGHTS, 'database-outage': options.databaseFaults ? WEIGHTS['database-outage'] : 0 };
  const busyUntil = new Map<string, number>();
  const faults: FaultEvent[] = [];
  for (let atMs = prng.int(1500, 4000); atMs < options.durationMs; atMs += prng.int(1500, 4000)) {
    const kind = prng.weighted(weights);
    const durationMs = durationOf(kind, prng, options.leaseSeconds * 1000);
    const delayMs = kind === 'delay' ? prng.int(100, 1500) : undefined;
    const group = targetKind(kind);
    let target: FaultEvent['target'];
    if (group === 'child') {
      const free = Array.from({ length: options.children }, (_, i) => i).filter(
        (i) => (busyUntil.get(`child-${i}`) ?? 0) <= atMs,
      );
      if (free.length === 0) continue;
      target = prng.pick(free);
    } else {
      if ((busyUntil.get(group) ?? 0) > atMs) continue;
      target = group;
    }
    busyUntil.set(typeof target === 'number' ? `child-${target}` : target, atMs + durationMs + 500);
    faults.push({ atMs, kind, target, durationMs, ...(delayMs === undefined ? {} : { delayMs }) });
  }
  const growth = createPrng(options.seed ^ 0x9e3779b9);
  const dispatches: DispatchEvent[] = [];
  for (let atMs = growth.int(500, 2000); atMs < options.durationMs; atMs += growth.int(2000, 5000)) {
    const newArticles = Array.from({ length: growth.int(0, 3) }, () => ({
      feed: growth.int(0, options.feeds - 1),
      count: growth.int(1, 2),
    }));
    dispatches.push({ atMs, newArticles });
  }
  return { faults, dispatches };
}
