import { describe, expect, it } from 'vitest';
import { planPlacement, type PlacementNode } from '../../src/domain/placement.js';

const node = (id: string, maxCapacity: number, load = 0, feedQuota: Record<string, number> = {}): PlacementNode => ({ id, name: id, maxCapacity, load, feedQuota });
const feeds = (n: number) => Array.from({ length: n }, (_, i) => `f${i + 1}`);
const byNode = (plan: ReturnType<typeof planPlacement>) => {
  const out: Record<string, string[]> = {};
  for (const g of plan.groups) (out[g.nodeId ?? 'pool'] ??= []).push(...g.feedIds);
  return out;
};

describe('planPlacement', () => {
  it('prefers the node with the highest quota weight for a feed', () => {
    const plan = planPlacement([node('a', 10, 0, { f1: 1 }), node('b', 10, 0, { f1: 5 }), node('c', 10)], ['f1'], 1);
    expect(plan.groups).toEqual([{ nodeId: 'b', feedIds: ['f1'], reason: expect.stringContaining('feed quota: b holds weight 5') }]);
  });

  it('breaks quota ties by free capacity, then by name', () => {
    expect(byNode(planPlacement([node('a', 10, 8, { f1: 3 }), node('b', 10, 2, { f1: 3 })], ['f1'], 1))).toEqual({ b: ['f1'] });
    expect(byNode(planPlacement([node('b', 10, 0, { f1: 3 }), node('a', 10, 0, { f1: 3 })], ['f1'], 1))).toEqual({ a: ['f1'] });
  });

  it('ignores a quota node that is full and falls back to free capacity', () => {
    const plan = planPlacement([node('a', 2, 2, { f1: 9 }), node('b', 4, 1)], ['f1'], 1);
    expect(byNode(plan)).toEqual({ b: ['f1'] });
    expect(plan.groups[0]?.reason).toContain('most free capacity: b had 3 of 4');
  });

  it('weight 0 is no preference', () => {
    expect(byNode(planPlacement([node('a', 10, 0, { f1: 0 }), node('b', 10, 5)], ['f1'], 1))).toEqual({ a: ['f1'] });
  });

  it('spreads feeds to the node with the most free capacity each time', () => {
    // b has 8 free and a 4: b takes feeds until both have 4 free, the tie goes to a (name), then b again.
    const plan = planPlacement([node('a', 4), node('b', 8)], feeds(6), 1);
    expect(byNode(plan)).toEqual({ a: ['f5'], b: ['f1', 'f2', 'f3', 'f4', 'f6'] });
  });

  it('never exceeds max_capacity and leaves the rest unassigned', () => {
    const plan = planPlacement([node('a', 2), node('b', 3, 1)], feeds(10), 1);
    const placed = byNode(plan);
    expect(placed.a).toHaveLength(2);
    expect(placed.b).toHaveLength(2);
    expect(placed.pool).toHaveLength(6);
    expect(plan.assigned).toBe(4);
    expect(plan.unassigned).toBe(6);
    expect(plan.groups.find((g) => g.nodeId === null)?.reason).toBe('unassigned: 2 node(s) online, all at capacity; the first node with room claims it');
  });

  it('with every node full, everything is unassigned', () => {
    const plan = planPlacement([node('a', 2, 2), node('b', 1, 1)], feeds(3), 1);
    expect(plan.assigned).toBe(0);
    expect(plan.groups.every((g) => g.nodeId === null)).toBe(true);
  });

  it('with no node online, everything is unassigned with that reason', () => {
    const plan = planPlacement([], feeds(2), 1);
    expect(plan.groups).toEqual([
      { nodeId: null, feedIds: ['f1'], reason: 'unassigned: no child node is online; the first node with room claims it' },
      { nodeId: null, feedIds: ['f2'], reason: 'unassigned: no child node is online; the first node with room claims it' },
    ]);
  });

  it('groups a node’s feeds into allocations of at most feedsPerAllocation', () => {
    const plan = planPlacement([node('a', 10)], feeds(7), 3);
    expect(plan.groups.map((g) => g.feedIds.length)).toEqual([3, 3, 1]);
    const pool = planPlacement([], feeds(5), 2);
    expect(pool.groups.map((g) => g.feedIds.length)).toEqual([2, 2, 1]);
  });
});
