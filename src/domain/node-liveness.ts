/** Node status on the wire (PROTOCOL §4): derived from `is_active` and heartbeat age, never stored. */
export const NodeStatus = Object.freeze({ offline: 0, online: 1, disabled: 2 } as const);
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

export const NodeType = Object.freeze({ parent: 0, child: 1 } as const);
export type NodeType = (typeof NodeType)[keyof typeof NodeType];

export function nodeStatus(isActive: boolean, lastHeartbeatAtMs: number | null, nowMs: number, offlineAfterSeconds: number): NodeStatus {
  if (!isActive) return NodeStatus.disabled;
  if (lastHeartbeatAtMs === null) return NodeStatus.offline;
  return nowMs - lastHeartbeatAtMs < offlineAfterSeconds * 1000 ? NodeStatus.online : NodeStatus.offline;
}

/** Heartbeats newer than this instant count as online. */
export function onlineSince(nowMs: number, offlineAfterSeconds: number): number {
  return nowMs - offlineAfterSeconds * 1000;
}
