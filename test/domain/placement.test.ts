import { describe, expect, it } from 'vitest';
import { planPlacement, warmNodeOf, type PlacementNode } from '../../src/domain/placement.js';

const node = (id: string, maxCapacity: number, load = 0, feedQuota: Record<string, number> = {}): PlacementNode => ({
  id,
  name: id,
  maxCapacity,
  load,
  feedQuota,
});
const feeds = (n: number) => Array.from({ length: n }, (_, i) => `f${i + 1}`);
const byNode = (plan: ReturnType<typeof planPlacement>) => {
  const out: Record<string, string[]> = {};
  for (const g of plan.groups) (out[g.nodeId ?? 'pool'] ??= []).push(...g.feedIds);
  return out;
};

describe('planPlacement', () => {
  it('prefers the node with the highest quota weight for a feed', () => {
    const plan = planPlacement([node('a', 10, 0, { f1: 1 }), node('b', 10, 0, { f1: 5 }), node('c', 10)], ['f1'], 1);
    expect(plan.groups).toEqual([
      { nodeId: 'b', feedIds: ['f1'], reason: expect.stringContaining('quota: b holds weight 5') },
    ]);
  });

  it('breaks quota ties by free capacity, then by name', () => {
    expect(byNode(planPlacement([node('a', 10, 8, { f1: 3 }), node('b', 10, 2, { f1: 3 })], ['f1'], 1))).toEqual({
      b: ['f1'],
    });
    expect(byNode(planPlacement([node('b', 10, 0, { f1: 3 }), node('a', 10, 0, { f1: 3 })], ['f1'], 1))).toEqual({
      a: ['f1'],
    });
  });

  it('ignores a quota node that is full and falls back to free capacity', () => {
    const plan = planPlacement([node('a', 2, 2, { f1: 9 }), node('b', 4, 1)], ['f1'], 1);
    expect(byNode(plan)).toEqual({ b: ['f1'] });
    expect(plan.groups[0]?.reason).toContain('free capacity: b had 3 of 4');
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
    expect(plan.groups.find((g) => g.nodeId === null)?.reason).toBe(
      'unassigned: 2 node(s) online, all at capacity; the first node with room claims it',
    );
  });

  it('with every node full, everything is unassigned', () => {
    const plan = planPlacement([node('a', 2, 2), node('b', 1, 1)], feeds(3), 1);
    expect(plan.assigned).toBe(0);
    expect(plan.groups.every((g) => g.nodeId === null)).toBe(true);
  });

  it('with no node online, everything is unassigned with that reason', () => {
    const plan = planPlacement([], feeds(2), 1);
    expect(plan.groups).toEqual([
      {
        nodeId: null,
        feedIds: ['f1'],
        reason: 'unassigned: no child node is online; the first node with room claims it',
      },
      {
        nodeId: null,
        feedIds: ['f2'],
        reason: 'unassigned: no child node is online; the first node with room claims it',
      },
    ]);
  });

  it('groups a node’s feeds into allocations of at most feedsPerAllocation', () => {
    const plan = planPlacement([node('a', 10)], feeds(7), 3);
    expect(plan.groups.map((g) => g.feedIds.length)).toEqual([3, 3, 1]);
    const pool = planPlacement([], feeds(5), 2);
    expect(pool.groups.map((g) => g.feedIds.length)).toEqual([2, 2, 1]);
  });

  describe('warm: the node that fetched a feed last', () => {
    it('is preferred among nodes with room, over the one with more free capacity', () => {
      const plan = planPlacement([node('a', 10), node('b', 4, 3)], ['f1', 'f2'], 2, 2, { f1: 'b' });
      expect(byNode(plan)).toEqual({ a: ['f2'], b: ['f1'] });
      expect(plan.groups.find((g) => g.nodeId === 'b')?.reason).toBe(
        'warm: b fetched these feeds last (1 of 1) and had room',
      );
      expect(plan.groups.find((g) => g.nodeId === 'a')?.reason).toMatch(/^free capacity: a had/);
    });

    it('gives way to a quota on another node', () => {
      const plan = planPlacement([node('a', 10, 0, { f1: 1 }), node('b', 10)], ['f1'], 1, 1, { f1: 'b' });
      expect(byNode(plan)).toEqual({ a: ['f1'] });
      expect(plan.groups[0]?.reason).toMatch(/^quota: a holds weight 1 for f1/);
    });

    it('is skipped when the last node is full or not online; free capacity decides', () => {
      expect(byNode(planPlacement([node('a', 10), node('b', 2, 2)], ['f1'], 1, 1, { f1: 'b' }))).toEqual({ a: ['f1'] });
      const gone = planPlacement([node('a', 10)], ['f1'], 1, 1, { f1: 'deleted-node' });
      expect(gone.groups[0]?.reason).toMatch(/^free capacity: a/);
    });

    it('fills only the room the warm node has; the rest goes by free capacity', () => {
      const plan = planPlacement([node('a', 10), node('b', 2)], feeds(4), 4, 4, { f1: 'b', f2: 'b', f3: 'b', f4: 'b' });
      expect(byNode(plan)).toEqual({ a: ['f3', 'f4'], b: ['f1', 'f2'] });
      expect(plan.groups.find((g) => g.nodeId === 'b')?.reason).toBe(
        'warm: b fetched these feeds last (2 of 2) and had room',
      );
    });

    it('groups a node’s warm feeds together, ahead of the feeds it got by free capacity', () => {
      // a is warm for f2 and f4; f1 and f3 were never fetched and a has the most room for them.
      const plan = planPlacement([node('a', 10), node('b', 10, 9)], feeds(4), 2, 2, { f2: 'a', f4: 'a' });
      expect(plan.groups.filter((g) => g.nodeId === 'a').map((g) => [g.feedIds, g.reason.split(':')[0]])).toEqual([
        [['f2', 'f4'], 'warm'],
        [['f1', 'f3'], 'free capacity'],
      ]);
    });

    it('a group is warm on the node that fetched most of its feeds last; a tie is warm on none', () => {
      expect(warmNodeOf(['f1', 'f2', 'f3'], { f1: 'a', f2: 'b', f3: 'a' })).toEqual({ nodeId: 'a', feeds: 2 });
      expect(warmNodeOf(['f1', 'f2'], { f1: 'a', f2: 'b' })).toBeUndefined();
      expect(warmNodeOf(['f1'], {})).toBeUndefined();
    });
  });
});
