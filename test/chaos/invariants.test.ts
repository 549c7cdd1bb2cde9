import { describe, expect, it } from 'vitest';
import { checkInvariants, type AllocationFacts, type AttemptFacts, type RunFacts } from '../../chaos/lib/invariants.js';

const NODE = { id: 'n1', name: 'chaos-a', loadFeeds: 0, maxCapacity: 2 };
const done = (id: string, feed: string): AllocationFacts => ({
  id,
  status: 'completed',
  nodeId: 'n1',
  attempt: 1,
  feedIds: [feed],
  feedCount: 1,
  availableAtMs: 0,
  runId: 'r1',
  dispatchedAtMs: 5,
});
const attempt = (id: number, allocationId: string, extra: Partial<AttemptFacts> = {}): AttemptFacts => ({
  id,
  allocationId,
  attempt: 1,
  nodeId: 'n1',
  claimedAtMs: 10,
  startedAtMs: 11,
  endedAtMs: 12,
  outcome: 'completed',
  ...extra,
});

/** A healthy end state: two allocations completed once each, every article stored. */
function healthy(): RunFacts {
  return {
    nowMs: 1000,
    allocations: [done('a1', 'F1'), done('a2', 'F2')],
    attempts: [attempt(1, 'a1'), attempt(2, 'a2')],
    nodes: [NODE],
    liveFeeds: [],
    samples: [],
    articles: [
      { feedId: 'F1', url: 'u/1' },
      { feedId: 'F1', url: 'u/2' },
      { feedId: 'F2', url: 'u/3' },
    ],
    checkedFeeds: new Map([
      ['F1', ['u/1', 'u/2']],
      ['F2', ['u/3']],
    ]),
    unexpectedExits: [],
    faultsInjected: 3,
  };
}

const broken = (facts: RunFacts): string[] => checkInvariants(facts).map((v) => v.invariant);

describe('the invariants', () => {
  it('hold on a healthy end state', () => {
    expect(checkInvariants(healthy())).toEqual([]);
  });

  it('flag work held after the drain, but not pending work whose retry delay still runs', () => {
    const facts = healthy();
    facts.allocations.push(
      { ...done('a3', 'F3'), status: 'claimed' },
      { ...done('a4', 'F4'), status: 'pending', nodeId: null, availableAtMs: 5000 },
    );
    facts.attempts.push(attempt(3, 'a3', { endedAtMs: null, startedAtMs: null, outcome: null }));
    facts.nodes = [{ ...NODE, loadFeeds: 1 }];
    facts.liveFeeds = [
      { feedId: 'F3', allocationId: 'a3' },
      { feedId: 'F4', allocationId: 'a4' },
    ];
    expect(checkInvariants(facts)).toEqual([
      { invariant: 'allocations-settled', detail: expect.stringContaining('a3 still claimed on chaos-a') },
    ]);
  });

  it('flag a second completion, a missing article, a duplicate and an unknown one', () => {
    const facts = healthy();
    facts.attempts.push(attempt(3, 'a1', { attempt: 2 }));
    facts.allocations[0] = { ...done('a1', 'F1'), attempt: 2 };
    facts.articles = [
      { feedId: 'F1', url: 'u/1' },
      { feedId: 'F1', url: 'u/1' },
      { feedId: 'F2', url: 'u/9' },
      { feedId: 'F2', url: 'u/3' },
    ];
    expect(broken(facts).sort()).toEqual(['articles', 'articles', 'articles', 'single-completion']);
  });

  it('flag an over-capacity sample, a wrong load_feeds and a live_feeds row without a live allocation', () => {
    const facts = healthy();
    facts.samples = [{ atMs: 500, node: 'chaos-a', loadFeeds: 3, heldFeeds: 2, maxCapacity: 2 }];
    facts.nodes = [{ ...NODE, loadFeeds: 1 }];
    facts.liveFeeds = [{ feedId: 'F1', allocationId: 'a1' }];
    expect(broken(facts).sort()).toEqual(['capacity', 'live-feeds', 'load-feeds']);
  });

  it('flag an attempt history that disagrees with its allocation', () => {
    const facts = healthy();
    facts.attempts = [
      attempt(1, 'a1', { endedAtMs: null, outcome: null }),
      attempt(2, 'a2', { outcome: 'requeued' }),
      attempt(3, 'a2', { attempt: 1 }),
    ];
    const details = checkInvariants(facts)
      .filter((v) => v.invariant === 'attempt-history')
      .map((v) => v.detail);
    expect(details).toEqual([
      expect.stringMatching(/^a1 .*still open though nobody holds it/),
      expect.stringMatching(/^a1 .*completed, but its last attempt ended never/),
      expect.stringMatching(/^a2 .*attempt numbers not increasing/),
    ]);
  });

  it('flag a crash and a run that did nothing', () => {
    const facts = healthy();
    facts.unexpectedExits = ['parent exited on its own (code 1, signal null)'];
    facts.faultsInjected = 0;
    expect(broken(facts).sort()).toEqual(['exercised', 'processes-survive']);
  });
});
