/** Node status on the wire (docs/protocol.md §4): derived from `is_active` and heartbeat age, never stored. */
export const NodeStatus = Object.freeze({ offline: 0, online: 1, disabled: 2 } as const);
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

export const NodeType = Object.freeze({ parent: 0, child: 1 } as const);
export type NodeType = (typeof NodeType)[keyof typeof NodeType];

export function nodeStatus(
  isActive: boolean,
  lastHeartbeatAtMs: number | null,
  nowMs: number,
  offlineAfterSeconds: number,
): NodeStatus {
  if (!isActive) return NodeStatus.disabled;
  if (lastHeartbeatAtMs === null) return NodeStatus.offline;
  return nowMs - lastHeartbeatAtMs < offlineAfterSeconds * 1000 ? NodeStatus.online : NodeStatus.offline;
}

/**
 * The liveness the node API shows next to `status` (which keeps the original's 0/1/2). `suspect`: online by
 * `offline_after_seconds`, but the child, which said how often it beats, has missed `suspectAfterBeats` beats in a
 * row: nothing new is placed on it and its pre-assigned pending work goes back to the pool. A child that never
 * said (the original one) is never suspect; `offline_after_seconds` alone judges it.
 */
export const NodeLiveness = Object.freeze({
  online: 'online',
  suspect: 'suspect',
  offline: 'offline',
  disabled: 'disabled',
} as const);
export type NodeLiveness = (typeof NodeLiveness)[keyof typeof NodeLiveness];

/** Beats a node may miss before it is suspect, unless configured (`dispatch.suspect_after_beats`). */
export const DEFAULT_SUSPECT_AFTER_BEATS = 3;

export type LivenessRules = { offlineAfterSeconds: number; suspectAfterBeats: number };

export function nodeLiveness(
  node: { isActive: boolean; lastHeartbeatAtMs: number | null; heartbeatIntervalMs: number | null },
  nowMs: number,
  rules: LivenessRules,
): NodeLiveness {
  const status = nodeStatus(node.isActive, node.lastHeartbeatAtMs, nowMs, rules.offlineAfterSeconds);
  if (status === NodeStatus.disabled) return NodeLiveness.disabled;
  if (status === NodeStatus.offline) return NodeLiveness.offline;
  if (
    node.heartbeatIntervalMs !== null &&
    nowMs - (node.lastHeartbeatAtMs as number) >= rules.suspectAfterBeats * node.heartbeatIntervalMs
  )
    return NodeLiveness.suspect;
  return NodeLiveness.online;
}

/** Heartbeats newer than this instant count as online. */
export function onlineSince(nowMs: number, offlineAfterSeconds: number): number {
  return nowMs - offlineAfterSeconds * 1000;
}
