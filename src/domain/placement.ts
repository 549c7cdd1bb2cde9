/**
 * The placement planner (docs/protocol.md §5): pure, no I/O. Each feed goes to the first node a rule picks, among
 * online nodes with room (never beyond `max_capacity`):
 * 1. quota: the node with the highest `feed_quota` weight for it (ties: more free capacity, then name);
 * 2. warm: the node that fetched it last (its DNS answers, TLS sessions and kept-alive connections are warm);
 * 3. free capacity: the node with the most free capacity.
 * What fits nowhere stays unassigned. A node's feeds are grouped into allocations of at most `feedsPerAllocation`,
 * quota feeds first, then warm ones, then the rest, and each group's `reason` names the rule that chose its node:
 * a group with a quota feed was placed by quota; otherwise it is warm when its node is the one that fetched the most
 * of its feeds last (at least one, no other node more: the rule every group of warm feeds meets by construction);
 * otherwise it was placed by free capacity.
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

/** Which rule chose a feed's node. */
export type PlacementRule = 'quota' | 'warm' | 'free';

/**
 * `poolGroupSize` caps unassigned allocations so that every node could take one (an allocation bigger than a
 * node's max_capacity could never be claimed by it); it defaults to feedsPerAllocation. `lastFetchedBy` maps a
 * feed to the node whose accepted completion last fetched it (feeds.last_node_id).
 */
export function planPlacement(
  nodes: readonly PlacementNode[],
  feedIds: readonly string[],
  feedsPerAllocation: number,
  poolGroupSize = feedsPerAllocation,
  lastFetchedBy: Readonly<Record<string, string>> = {},
): PlacementPlan {
  const free = new Map(nodes.map((n) => [n.id, Math.max(0, n.maxCapacity - n.load)]));
  const perNode = new Map<string, Array<{ feedId: string; choice: Choice }>>();
  const unassigned: string[] = [];
  const ordered = [...nodes].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

  for (const feedId of feedIds) {
    const choice = chooseNode(ordered, free, feedId, lastFetchedBy[feedId]);
    if (!choice) {
      unassigned.push(feedId);
      continue;
    }
    free.set(choice.node.id, (free.get(choice.node.id) ?? 0) - 1);
    const bucket = perNode.get(choice.node.id) ?? [];
    bucket.push({ feedId, choice });
    perNode.set(choice.node.id, bucket);
  }

  const groups: PlacementGroup[] = [];
  for (const [nodeId, bucket] of perNode) {
    // Quota feeds first, then warm ones, then the rest (stable), so each group holds feeds of one kind where it can.
    const sorted = [...bucket].sort((a, b) => RULE_ORDER[a.choice.rule] - RULE_ORDER[b.choice.rule]);
    for (let i = 0; i < sorted.length; i += feedsPerAllocation) {
      const part = sorted.slice(i, i + feedsPerAllocation);
      groups.push({ nodeId, feedIds: part.map((p) => p.feedId), reason: groupReason(part, lastFetchedBy) });
    }
  }
  const poolReason = unassignedReason(nodes);
  const poolSize = Math.max(1, Math.min(feedsPerAllocation, poolGroupSize));
  for (let i = 0; i < unassigned.length; i += poolSize) {
    groups.push({ nodeId: null, feedIds: unassigned.slice(i, i + poolSize), reason: poolReason });
  }
  return { groups, assigned: feedIds.length - unassigned.length, unassigned: unassigned.length };
}

type Choice = { node: PlacementNode; rule: PlacementRule; reason: string };

const RULE_ORDER: Readonly<Record<PlacementRule, number>> = { quota: 0, warm: 1, free: 2 };

/**
 * The node a group is warm on: the one that fetched the most of its feeds last (ties: none), and how many. A
 * group is warm on its own node when that node is this one.
 */
export function warmNodeOf(
  feedIds: readonly string[],
  lastFetchedBy: Readonly<Record<string, string>>,
): { nodeId: string; feeds: number } | undefined {
  const counts = new Map<string, number>();
  for (const feedId of feedIds) {
    const nodeId = lastFetchedBy[feedId];
    if (nodeId !== undefined) counts.set(nodeId, (counts.get(nodeId) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (!first || (second && second[1] === first[1])) return undefined;
  return { nodeId: first[0], feeds: first[1] };
}

/** The rule that placed a group on its node, in words: quota if any feed had one, warm, or free capacity. */
function groupReason(
  part: ReadonlyArray<{ feedId: string; choice: Choice }>,
  lastFetchedBy: Readonly<Record<string, string>>,
): string {
  const quota = part.find((p) => p.choice.rule === 'quota');
  if (quota) return quota.choice.reason;
  const node = (part[0] as { choice: Choice }).choice.node;
  const warm = warmNodeOf(
    part.map((p) => p.feedId),
    lastFetchedBy,
  );
  if (warm?.nodeId === node.id)
    return `warm: ${node.name} fetched these feeds last (${warm.feeds} of ${part.length}) and had room`;
  return (part.find((p) => p.choice.rule === 'free') ?? (part[0] as { choice: Choice })).choice.reason;
}

function chooseNode(
  nodes: readonly PlacementNode[],
  free: Map<string, number>,
  feedId: string,
  lastNodeId: string | undefined,
): Choice | undefined {
  let bestQuota: PlacementNode | undefined;
  let bestFree: PlacementNode | undefined;
  let warm: PlacementNode | undefined;
  let quotaHolders = 0;
  for (const node of nodes) {
    const room = free.get(node.id) ?? 0;
    if (room <= 0) continue;
    const weight = node.feedQuota[feedId] ?? 0;
    if (weight > 0) {
      quotaHolders += 1;
      if (!bestQuota || better(weight, room, bestQuota.feedQuota[feedId] ?? 0, free.get(bestQuota.id) ?? 0))
        bestQuota = node;
    }
    if (node.id === lastNodeId) warm = node;
    if (!bestFree || room > (free.get(bestFree.id) ?? 0)) bestFree = node;
  }
  if (bestQuota) {
    const weight = bestQuota.feedQuota[feedId] ?? 0;
    return {
      node: bestQuota,
      rule: 'quota',
      reason: `quota: ${bestQuota.name} holds weight ${weight} for ${feedId} (highest of ${quotaHolders} online node(s) with room and quota)`,
    };
  }
  if (warm) return { node: warm, rule: 'warm', reason: `warm: ${warm.name} fetched these feeds last and had room` };
  if (bestFree) {
    const room = free.get(bestFree.id) ?? 0;
    const withRoom = nodes.filter((n) => (free.get(n.id) ?? 0) > 0).length;
    return {
      node: bestFree,
      rule: 'free',
      reason: `free capacity: ${bestFree.name} had ${room} of ${bestFree.maxCapacity} slots free (${withRoom} of ${nodes.length} online node(s) had room)`,
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
