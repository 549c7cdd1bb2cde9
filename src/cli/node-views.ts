import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { NodeType } from '../domain/node-liveness.js';
import type { NodeCredentials, NodeView } from '../store/nodes.js';
import { formatAge, printFields, printLine } from './output.js';

/** online, suspect (missed beats, see domain/node-liveness.ts), offline or disabled. */
function statusName(node: NodeView): string {
  return node.liveness;
}

export function nodeRow(node: NodeView, nowMs: number): string[] {
  const isChild = node.node_type === NodeType.child;
  return [
    node.name,
    node.id,
    isChild ? 'child' : 'parent',
    isChild ? statusName(node) : '-',
    isChild ? formatAge(node.last_heartbeat_at, nowMs) : '-',
    isChild ? `${node.current_tasks}/${node.sync_config.max_capacity}` : '-',
    node.api_url ?? '',
  ];
}

export const NODE_COLUMNS = ['NAME', 'ID', 'TYPE', 'STATUS', 'HEARTBEAT', 'LOAD', 'API URL'] as const;

export function printNode(node: NodeView): void {
  const quota = Object.entries(node.sync_config.feed_quota);
  printFields([
    ['name', node.name],
    ['id', node.id],
    ['type', node.node_type === NodeType.child ? 'child' : 'parent'],
    ['status', statusName(node)],
    ['active', node.is_active ? 'yes' : 'no'],
    ['description', node.description || '-'],
    ['api_url', node.api_url ?? '-'],
    ['callback_url', node.callback_url ?? '-'],
    ['api_key', node.api_key ?? '-'],
    [
      'signing',
      node.node_type !== NodeType.child
        ? '-'
        : `${node.signing_available ? 'available' : 'not yet (rotate the credentials)'}; plain header ${node.require_signed ? 'refused' : 'accepted'}`,
    ],
    ['load', `${node.current_tasks}/${node.sync_config.max_capacity} feeds (child reports ${node.reported_tasks})`],
    ['feed_quota', quota.length > 0 ? quota.map(([feed, weight]) => `${feed}=${weight}`).join(', ') : '-'],
    [
      'last heartbeat',
      node.last_heartbeat_at ? `${node.last_heartbeat_at} (${formatAge(node.last_heartbeat_at)})` : 'never',
    ],
    ['last sync', node.last_sync_at ?? 'never'],
    ['version', node.version ?? '-'],
    ['hostname', node.hostname ?? '-'],
    ['created', node.created_at ?? '-'],
    ['updated', node.updated_at ?? '-'],
  ]);
}

/** The parent address a child should use: explicit, or this host and the configured port. */
export function defaultParentUrl(config: Readonly<Config>): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? hostname() || '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/**
 * The child's config.yaml block, in the shape of the user's quick reference. Its outbox folder is named after the
 * node, so two children started from one folder (the README's walkthrough) never share an outbox.
 */
export function childConfigYaml(
  parentUrl: string,
  credentials: NodeCredentials,
  config: Readonly<Config>,
  nodeName: string,
): string {
  return [
    'cascade:',
    '  enabled: true',
    '  node_type: child',
    `  parent_api_url: ${JSON.stringify(parentUrl)}`,
    `  api_key: ${JSON.stringify(credentials.api_key)}`,
    `  api_secret: ${JSON.stringify(credentials.api_secret)}`,
    "  # Verifies the parent's wake-up calls (POST /api/v1/cascade/notify on health_port; set the node's api_url to it).",
    `  notify_key: ${JSON.stringify(credentials.notify_key)}`,
    `  sync_interval: ${config.cascade.sync_interval}`,
    `  heartbeat_interval: ${config.cascade.heartbeat_interval}`,
    `  data_dir: ${JSON.stringify(`./data/${nodeName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^\.+/, '') || 'child'}`)}`,
    '',
  ].join('\n');
}

/** A new key pair, shown this once (`node add`, `node rotate`). */
export function printCredentials(headline: string, credentials: NodeCredentials): void {
  printLine(headline);
  printLine();
  printLine(`  api_key:    ${credentials.api_key}`);
  printLine(`  api_secret: ${credentials.api_secret}`);
  printLine(`  notify_key: ${credentials.notify_key}`);
  printLine();
  printLine('Store the secret and the notify key now: they are shown only this once.');
  printLine();
}
