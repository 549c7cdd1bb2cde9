import {
  FINAL_STATUSES,
  HELD_STATUSES,
  LIVE_STATUSES,
  type AllocationStatus,
} from '../../src/domain/allocation-states.js';

/** What the end of a run reads from the database (typed here, numbers already numbers). */
export type AllocationFacts = {
  id: string;
  status: AllocationStatus;
  nodeId: string | null;
  attempt: number;
  feedIds: string[];
  feedCount: number;
  availableAtMs: number;
  runId: string;
  dispatchedAtMs: number;
};
export type AttemptFacts = {
  id: number;
  allocationId: string;
  attempt: number;
  nodeId: string;
  claimedAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  outcome: string | null;
};
export type NodeFacts = { id: string; name: string; loadFeeds: number; maxCapacity: number };
export type CapacitySample = { atMs: number; node: string; loadFeeds: number; heldFeeds: number; maxCapacity: number };
export type ArticleFacts = { feedId: string; url: string };

export type RunFacts = {
  nowMs: number;
  allocations: AllocationFacts[];
  attempts: AttemptFacts[];
  nodes: NodeFacts[];
  liveFeeds: Array<{ feedId: string; allocationId: string }>;
  samples: CapacitySample[];
  articles: ArticleFacts[];
  /** Feeds fetched by a completed allocation after the corpus stopped growing, with every link they publish. */
  checkedFeeds: Map<string, string[]>;
  /** Processes that ended without being told to (a crash), as readable lines. */
  unexpectedExits: string[];
  /** What the run did, to prove it exercised the system. */
  faultsInjected: number;
};

export const INVARIANTS = {
  'allocations-settled': 'every allocation is final, or pending with a retry delay still running',
  'single-completion': 'no allocation completed twice (at most one completed attempt each)',
  capacity: 'no node over its max_capacity at any sample (load_feeds and the feeds it really held)',
  articles: 'no article missing, duplicated or unknown for feeds completed after the corpus froze',
  'attempt-history': 'attempt history consistent with the allocation (numbers, holder, open/closed)',
  'load-feeds': 'each node’s load_feeds equals the feeds of the live allocations it holds or has pre-assigned',
  'live-feeds': 'live_feeds lists exactly the feeds of live allocations',
  'processes-survive': 'no parent or child process ended on its own',
  exercised: 'the run injected faults and completed work (it cannot pass by doing nothing)',
} as const;
export type InvariantName = keyof typeof INVARIANTS;
export type Violation = { invariant: InvariantName; detail: string };

export function checkInvariants(facts: RunFacts): Violation[] {
  return [
    ...settled(facts),
    ...singleCompletion(facts),
    ...capacity(facts),
    ...articles(facts),
    ...attemptHistory(facts),
    ...loadFeeds(facts),
    ...liveFeeds(facts),
    ...facts.unexpectedExits.map((detail) => ({ invariant: 'processes-survive' as const, detail })),
    ...exercised(facts),
  ];
}

function settled({ allocations, nodes, nowMs }: RunFacts): Violation[] {
  const nodeName = (id: string | null): string =>
    id === null ? 'the pool' : (nodes.find((n) => n.id === id)?.name ?? id);
  return allocations
    .filter((a) => !FINAL_STATUSES.includes(a.status) && !(a.status === 'pending' && a.availableAtMs > nowMs))
    .map((a) => ({
      invariant: 'allocations-settled',
      detail: `${a.id} still ${a.status} on ${nodeName(a.nodeId)} (attempt ${a.attempt}, feeds ${a.feedIds.join(',')})`,
    }));
}

function attemptsByAllocation(attempts: AttemptFacts[]): Map<string, AttemptFacts[]> {
  const byAllocation = new Map<string, AttemptFacts[]>();
  for (const attempt of [...attempts].sort((x, y) => x.id - y.id)) {
    const list = byAllocation.get(attempt.allocationId) ?? [];
    list.push(attempt);
    byAllocation.set(attempt.allocationId, list);
  }
  return byAllocation;
}

function singleCompletion({ allocations, attempts }: RunFacts): Violation[] {
  const byAllocation = attemptsByAllocation(attempts);
  const violations: Violation[] = [];
  for (const allocation of allocations) {
    const completed = (byAllocation.get(allocation.id) ?? []).filter((a) => a.outcome === 'completed');
    if (completed.length > 1)
      violations.push({
        invariant: 'single-completion',
        detail: `${allocation.id} completed ${completed.length} times (attempts ${completed.map((a) => a.attempt).join(', ')})`,
      });
    if (allocation.status === 'completed' && completed.length === 0)
      violations.push({
        invariant: 'single-completion',
        detail: `${allocation.id} is completed but no attempt says so`,
      });
  }
  return violations;
}

function capacity({ samples }: RunFacts): Violation[] {
  return samples
    .filter((s) => s.loadFeeds > s.maxCapacity || s.heldFeeds > s.maxCapacity)
    .map((s) => ({
      invariant: 'capacity',
      detail: `${s.node} at +${(s.atMs / 1000).toFixed(1)} s: load_feeds ${s.loadFeeds}, held ${s.heldFeeds}, max_capacity ${s.maxCapacity}`,
    }));
}

function articles({ articles: stored, checkedFeeds }: RunFacts): Violation[] {
  const violations: Violation[] = [];
  for (const [feedId, expected] of checkedFeeds) {
    const links = stored.filter((a) => a.feedId === feedId).map((a) => a.url);
    const counts = new Map<string, number>();
    for (const link of links) counts.set(link, (counts.get(link) ?? 0) + 1);
    const missing = expected.filter((link) => !counts.has(link));
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([link]) => link);
    const unknown = [...counts.keys()].filter((link) => !expected.includes(link));
    if (missing.length > 0)
      violations.push({
        invariant: 'articles',
        detail: `${feedId}: ${missing.length} of ${expected.length} missing (${missing.slice(0, 3).map(lastPart).join(', ')}${missing.length > 3 ? ', …' : ''})`,
      });
    if (duplicated.length > 0)
      violations.push({
        invariant: 'articles',
        detail: `${feedId}: ${duplicated.length} stored twice (${duplicated.slice(0, 3).map(lastPart).join(', ')})`,
      });
    if (unknown.length > 0)
      violations.push({
        invariant: 'articles',
        detail: `${feedId}: ${unknown.length} not in the corpus (${unknown.slice(0, 3).join(', ')})`,
      });
  }
  return violations;
}

const lastPart = (link: string): string => link.slice(link.lastIndexOf('/', link.lastIndexOf('/') - 1) + 1);

function attemptHistory({ allocations, attempts }: RunFacts): Violation[] {
  const byAllocation = attemptsByAllocation(attempts);
  const violations: Violation[] = [];
  const flag = (allocation: AllocationFacts, problem: string): void =>
    void violations.push({
      invariant: 'attempt-history',
      detail: `${allocation.id} (${allocation.status}, attempt ${allocation.attempt}): ${problem}`,
    });
  for (const allocation of allocations) {
    const history = byAllocation.get(allocation.id) ?? [];
    for (let i = 1; i < history.length; i++) {
      if ((history[i] as AttemptFacts).attempt <= (history[i - 1] as AttemptFacts).attempt)
        flag(allocation, `attempt numbers not increasing (${history.map((a) => a.attempt).join(', ')})`);
    }
    const newest = history[history.length - 1];
    if (newest && newest.attempt > allocation.attempt)
      flag(allocation, `history has attempt ${newest.attempt}, beyond the allocation's`);
    const open = history.filter((a) => a.endedAtMs === null);
    if (open.length > 1) flag(allocation, `${open.length} attempts open at once`);
    const held = HELD_STATUSES.includes(allocation.status);
    if (held && (open.length !== 1 || open[0]?.nodeId !== allocation.nodeId || open[0]?.attempt !== allocation.attempt))
      flag(
        allocation,
        `held by ${allocation.nodeId} but its open attempt is ${open.map((a) => `#${a.attempt} on ${a.nodeId}`).join(', ') || 'missing'}`,
      );
    if (!held && open.length > 0) flag(allocation, `attempt #${open[0]?.attempt} still open though nobody holds it`);
    if (allocation.status === 'completed' && newest?.outcome !== 'completed')
      flag(allocation, `completed, but its last attempt ended ${newest?.outcome ?? 'never'}`);
    for (const a of history) {
      if (a.endedAtMs !== null && a.endedAtMs < a.claimedAtMs)
        flag(allocation, `attempt #${a.attempt} ended before it was claimed`);
      if (a.startedAtMs !== null && a.startedAtMs < a.claimedAtMs)
        flag(allocation, `attempt #${a.attempt} started before it was claimed`);
    }
  }
  return violations;
}

function loadFeeds({ allocations, nodes }: RunFacts): Violation[] {
  const real = new Map<string, number>();
  for (const a of allocations)
    if (a.nodeId && LIVE_STATUSES.includes(a.status)) real.set(a.nodeId, (real.get(a.nodeId) ?? 0) + a.feedCount);
  return nodes
    .filter((n) => n.loadFeeds !== (real.get(n.id) ?? 0))
    .map((n) => ({
      invariant: 'load-feeds',
      detail: `${n.name}: load_feeds ${n.loadFeeds}, real load ${real.get(n.id) ?? 0}`,
    }));
}

function liveFeeds({ allocations, liveFeeds: rows }: RunFacts): Violation[] {
  const expected = new Map<string, string>();
  for (const a of allocations)
    if (LIVE_STATUSES.includes(a.status)) for (const feed of a.feedIds) expected.set(feed, a.id);
  const violations: Violation[] = [];
  for (const row of rows) {
    if (expected.get(row.feedId) !== row.allocationId)
      violations.push({
        invariant: 'live-feeds',
        detail: `${row.feedId} marked live for ${row.allocationId}, which is not live for it`,
      });
  }
  for (const [feed, allocation] of expected) {
    if (!rows.some((r) => r.feedId === feed && r.allocationId === allocation))
      violations.push({ invariant: 'live-feeds', detail: `${feed} of live ${allocation} missing from live_feeds` });
  }
  return violations;
}

function exercised({ allocations, faultsInjected }: RunFacts): Violation[] {
  const violations: Violation[] = [];
  if (faultsInjected === 0) violations.push({ invariant: 'exercised', detail: 'no fault was injected' });
  if (!allocations.some((a) => a.status === 'completed'))
    violations.push({ invariant: 'exercised', detail: 'no allocation completed' });
  return violations;
}
