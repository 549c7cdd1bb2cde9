/**
 * The placement planner (docs/protocol.md §5): pure, no I/O. Each feed goes to the online node with the highest
 * `feed_quota` weight for it (ties: more free capacity, then name); without quota, to the node with the most
 * free capacity; never beyond `max_capacity`. What fits nowhere stays unassigned. A node's feeds are grouped into
 * allocations of at most `feedsPerAllocation`.
 */
export type PlacementNode = {
  id: string;
  name: string;
  maxCapacity: number;
  /** Feeds the node already holds or has pre-assigned. */
  load: number;
  feedQuota: Readonly<Record<string, number>>;
};

export type PlacementGroup = {
  /** null: unassigned, claimable by any node with room. */
  nodeId: string | null;
  feedIds: string[];
  /** Why this node (or why none), in words, for GET /allocations/{id}. */
  reason: string;
};

export type PlacementPlan = { groups: PlacementGroup[]; assigned: number; unassigned: number };

/**
 * `poolGroupSize` caps unassigned allocations so that every node could take one (an allocation bigger than a
 * node's max_capacity could never be claimed by it); it defaults to feedsPerAllocation.
 */
export function planPlacement(nodes: readonly PlacementNode[], feedIds: readonly string[], feedsPerAllocation: number, poolGroupSize = feedsPerAllocation): PlacementPlan {
  const free = new Map(nodes.map((n) => [n.id, Math.max(0, n.maxCapacity - n.load)]));
  const perNode = new Map<string, { feedIds: string[]; reasons: string[] }>();
  const unassigned: string[] = [];
  const ordered = [...nodes].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

  for (const feedId of feedIds) {
    const choice = chooseNode(ordered, free, feedId);
    if (!choice) {
      unassigned.push(feedId);
      continue;
    }
    free.set(choice.node.id, (free.get(choice.node.id) ?? 0) - 1);
    const bucket = perNode.get(choice.node.id) ?? { feedIds: [], reasons: [] };
    bucket.feedIds.push(feedId);
    bucket.reasons.push(choice.reason);
    perNode.set(choice.node.id, bucket);
  }

  const groups: PlacementGroup[] = [];
  for (const [nodeId, bucket] of perNode) {
    for (let i = 0; i < bucket.feedIds.length; i += feedsPerAllocation) {
      groups.push({ nodeId, feedIds: bucket.feedIds.slice(i, i + feedsPerAllocation), reason: bucket.reasons[i] as string });
    }
  }
  const poolReason = unassignedReason(nodes);
  const poolSize = Math.max(1, Math.min(feedsPerAllocation, poolGroupSize));
  for (let i = 0; i < unassigned.length; i += poolSize) {
    groups.push({ nodeId: null, feedIds: unassigned.slice(i, i + poolSize), reason: poolReason });
  }
  return { groups, assigned: feedIds.length - unassigned.length, unassigned: unassigned.length };
}

function chooseNode(
  nodes: readonly PlacementNode[],
  free: Map<string, number>,
  feedId: string,
): { node: PlacementNode; reason: string } | undefined {
  let bestQuota: PlacementNode | undefined;
  let bestFree: PlacementNode | undefined;
  let quotaHolders = 0;
  for (const node of nodes) {
    const room = free.get(node.id) ?? 0;
    if (room <= 0) continue;
    const weight = node.feedQuota[feedId] ?? 0;
    if (weight > 0) {
      quotaHolders += 1;
      if (!bestQuota || better(weight, room, bestQuota.feedQuota[feedId] ?? 0, free.get(bestQuota.id) ?? 0)) bestQuota = node;
    }
    if (!bestFree || room > (free.get(bestFree.id) ?? 0)) bestFree = node;
  }
  if (bestQuota) {
    const weight = bestQuota.feedQuota[feedId] ?? 0;
    return {
      node: bestQuota,
      reason: `feed quota: ${bestQuota.name} holds weight ${weight} for ${feedId} (highest of ${quotaHolders} online node(s) with room and quota)`,
    };
  }
  if (bestFree) {
    const room = free.get(bestFree.id) ?? 0;
    const withRoom = nodes.filter((n) => (free.get(n.id) ?? 0) > 0).length;
    return {
      node: bestFree,
      reason: `most free capacity: ${bestFree.name} had ${room} of ${bestFree.maxCapacity} slots free (${withRoom} of ${nodes.length} online node(s) had room)`,
    };
  }
  return undefined;
}

function better(weight: number, room: number, bestWeight: number, bestRoom: number): boolean {
  return weight > bestWeight || (weight === bestWeight && room > bestRoom);
}

function unassignedReason(nodes: readonly PlacementNode[]): string {
  if (nodes.length === 0) return 'unassigned: no child node is online; the first node with room claims it';
  return `unassigned: ${nodes.length} node(s) online, all at capacity; the first node with room claims it`;
}
