import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isSealed, type SecretBox } from '../auth/secret-box.js';
import { hashNodeSecret, newNodeCredentials, randomToken, verifyNodeSecret } from '../auth/secrets.js';
import {
  nodeLiveness,
  NodeStatus,
  nodeStatus,
  NodeType,
  onlineSince,
  type LivenessRules,
  type NodeLiveness,
} from '../domain/node-liveness.js';
import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { Database, NodeTable } from './tables.js';
import { iso, numberOrNull, parseJson } from './time.js';
import { isUniqueViolation } from './dialects/unique-violation.js';
import { StoredFlag } from './stored-flag.js';

export type SyncConfig = { max_capacity: number; feed_quota: Record<string, number> };

export type NodeView = {
  id: string;
  node_type: number;
  name: string;
  description: string;
  api_url: string | null;
  callback_url: string | null;
  api_key: string | null;
  status: number;
  /** `status` with `suspect` told apart from `online` (see domain/node-liveness.ts). */
  liveness: NodeLiveness;
  is_active: boolean;
  /** The plain AK-SK header is refused; only signed requests (AK-SK-HMAC) are accepted. */
  require_signed: boolean;
  /** The parent keeps this node's secret sealed and can verify signed requests (false until a rotation for nodes older than migration 010). */
  signing_available: boolean;
  sync_config: SyncConfig;
  current_tasks: number;
  reported_tasks: number;
  last_heartbeat_at: string | null;
  /** The heartbeat period the child reported; null for a child that does not say (the original). */
  heartbeat_interval_s: number | null;
  last_sync_at: string | null;
  version: string | null;
  hostname: string | null;
  created_at: string | null;
  updated_at: string | null;
};

/** Shown once, at creation and rotation: the AK-SK pair, and the key the parent signs its notify calls with. */
export type NodeCredentials = { api_key: string; api_secret: string; notify_key: string };

/** Where and how to notify a node of new work: only nodes with an `api_url` and a notify key. */
export type NotifyTarget = { id: string; name: string; api_url: string; notify_key: string };

function newNotifyKey(): string {
  return randomToken(43);
}

/**
 * A node as the store hands it out: flags as booleans, `feed_quota` parsed, times in epoch ms. It never carries the
 * API secret, its hash or the notify key (notifyTargets and forSignedRequest open those where they are needed).
 */
export type NodeRecord = {
  id: string;
  nodeType: NodeType;
  name: string;
  description: string;
  apiUrl: string | null;
  callbackUrl: string | null;
  apiKey: string | null;
  isActive: boolean;
  /** The plain AK-SK header is refused; only signed requests (AK-SK-HMAC) are accepted. */
  requireSigned: boolean;
  /** The parent keeps the secret sealed and can verify signed requests (false until a rotation for nodes older than migration 010). */
  signingAvailable: boolean;
  maxCapacity: number;
  feedQuota: Record<string, number>;
  /** Feeds in allocations this node holds or has pre-assigned; kept by store/allocations in every move. */
  loadFeeds: number;
  /** What the child last reported in its heartbeat (`current_tasks`). */
  reportedTasks: number;
  lastHeartbeatAtMs: number | null;
  heartbeatIntervalMs: number | null;
  lastSyncAtMs: number | null;
  version: string | null;
  hostname: string | null;
  createdAtMs: number;
  updatedAtMs: number;
};

/** The only place a nodes row is read. */
export function toNodeRecord(row: NodeTable): NodeRecord {
  return {
    id: row.id,
    nodeType: Number(row.node_type) === NodeType.child ? NodeType.child : NodeType.parent,
    name: row.name,
    description: row.description,
    apiUrl: row.api_url,
    callbackUrl: row.callback_url,
    apiKey: row.api_key,
    isActive: Number(row.is_active) === StoredFlag.on,
    requireSigned: Number(row.require_signed) === StoredFlag.on,
    signingAvailable: row.api_secret_sealed !== null,
    maxCapacity: Number(row.max_capacity),
    feedQuota: parseJson<Record<string, number>>(row.feed_quota, {}),
    loadFeeds: Number(row.load_feeds),
    reportedTasks: Number(row.reported_tasks),
    lastHeartbeatAtMs: numberOrNull(row.last_heartbeat_at),
    heartbeatIntervalMs: numberOrNull(row.heartbeat_interval_ms),
    lastSyncAtMs: numberOrNull(row.last_sync_at),
    version: row.version,
    hostname: row.hostname,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

/** The only place a node becomes a wire object; it never carries the secret or its hash. */
export function toNodeView(node: NodeRecord, nowMs: number, rules: LivenessRules): NodeView {
  const { isActive, lastHeartbeatAtMs, heartbeatIntervalMs } = node;
  return {
    id: node.id,
    node_type: node.nodeType,
    name: node.name,
    description: node.description,
    api_url: node.apiUrl,
    callback_url: node.callbackUrl,
    api_key: node.apiKey,
    status: nodeStatus(isActive, lastHeartbeatAtMs, nowMs, rules.offlineAfterSeconds),
    liveness: nodeLiveness({ isActive, lastHeartbeatAtMs, heartbeatIntervalMs }, nowMs, rules),
    is_active: isActive,
    require_signed: node.requireSigned,
    signing_available: node.signingAvailable,
    sync_config: { max_capacity: node.maxCapacity, feed_quota: node.feedQuota },
    current_tasks: node.loadFeeds,
    reported_tasks: node.reportedTasks,
    last_heartbeat_at: iso(lastHeartbeatAtMs),
    heartbeat_interval_s: heartbeatIntervalMs === null ? null : heartbeatIntervalMs / 1000,
    last_sync_at: iso(node.lastSyncAtMs),
    version: node.version,
    hostname: node.hostname,
    created_at: iso(node.createdAtMs),
    updated_at: iso(node.updatedAtMs),
  };
}

export type NodeInput = {
  node_type: NodeType;
  name: string;
  description?: string | undefined;
  api_url?: string | undefined;
  require_signed?: boolean | undefined;
  sync_config?: Partial<SyncConfig> | undefined;
};

export type NodePatch = {
  name?: string | undefined;
  description?: string | undefined;
  api_url?: string | null | undefined;
  is_active?: boolean | undefined;
  require_signed?: boolean | undefined;
  sync_config?: Partial<SyncConfig> | undefined;
};

/** A node found by the key of a signed request, with its secret opened (undefined: not sealed, or not openable). */
export type SigningNode = { node: NodeRecord; secret: string | undefined };

export class NodesStore {
  private lastNoncePurge = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: LivenessRules,
    /** Resolved on first use, after migrations (the key may be kept in the store's settings). */
    private readonly secretBox: () => Promise<SecretBox>,
  ) {}

  /** The secret columns of a new or rotated child, sealed to this row's id. */
  private async sealedSecrets(
    id: string,
    apiSecret: string,
    notifyKey: string,
  ): Promise<{ api_secret_sealed: string; notify_key: string }> {
    const box = await this.secretBox();
    return {
      api_secret_sealed: box.seal(apiSecret, `api_secret:${id}`),
      notify_key: box.seal(notifyKey, `notify_key:${id}`),
    };
  }

  view(node: NodeRecord): NodeView {
    return toNodeView(node, Date.now(), this.rules);
  }

  /** Creates a node; a child gets AK/SK credentials whose secret is returned here and never again. */
  async create(input: NodeInput): Promise<{ node: NodeView; credentials: NodeCredentials | null }> {
    await this.assertNameFree(input.name);
    const now = Date.now();
    const credentials =
      input.node_type === NodeType.child ? { ...newNodeCredentials(), notifyKey: newNotifyKey() } : null;
    const id = randomUUID();
    const sealed = credentials ? await this.sealedSecrets(id, credentials.apiSecret, credentials.notifyKey) : null;
    const row: NodeTable = {
      id,
      node_type: input.node_type,
      name: input.name,
      description: input.description ?? '',
      api_url: input.api_url ?? null,
      callback_url: null,
      api_key: credentials?.apiKey ?? null,
      api_secret_hash: credentials ? hashNodeSecret(credentials.apiSecret) : null,
      api_secret_sealed: sealed?.api_secret_sealed ?? null,
      notify_key: sealed?.notify_key ?? null,
      require_signed: input.require_signed ? StoredFlag.on : StoredFlag.off,
      is_active: StoredFlag.on,
      max_capacity: input.sync_config?.max_capacity ?? 10,
      feed_quota: JSON.stringify(input.sync_config?.feed_quota ?? {}),
      load_feeds: 0,
      reported_tasks: 0,
      last_heartbeat_at: null,
      heartbeat_interval_ms: null,
      last_sync_at: null,
      version: null,
      hostname: null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('nodes').values(row).execute();
    return {
      node: this.view(toNodeRecord(row)),
      credentials: credentials
        ? { api_key: credentials.apiKey, api_secret: credentials.apiSecret, notify_key: credentials.notifyKey }
        : null,
    };
  }

  async get(id: string): Promise<NodeRecord> {
    return toNodeRecord(await this.getRow(id));
  }

  private async getRow(id: string): Promise<NodeTable> {
    const row = await this.db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Node', id);
    return row;
  }

  /** Finds a node by id or by name (the CLI accepts either). */
  async resolve(idOrName: string): Promise<NodeRecord> {
    const row = await this.db
      .selectFrom('nodes')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    if (!row) throw notFound('Node', idOrName);
    return toNodeRecord(row);
  }

  async list(
    filter: { node_type?: number | undefined; status?: number | undefined },
    limit: number,
    offset: number,
  ): Promise<{ list: NodeView[]; total: number }> {
    const now = Date.now();
    const since = onlineSince(now, this.rules.offlineAfterSeconds);
    let query = this.db.selectFrom('nodes');
    if (filter.node_type !== undefined) query = query.where('node_type', '=', filter.node_type);
    if (filter.status === NodeStatus.disabled) query = query.where('is_active', '=', StoredFlag.off);
    if (filter.status === NodeStatus.online)
      query = query.where('is_active', '=', StoredFlag.on).where('last_heartbeat_at', '>=', since);
    if (filter.status === NodeStatus.offline) {
      query = query
        .where('is_active', '=', StoredFlag.on)
        .where((eb) => eb.or([eb('last_heartbeat_at', 'is', null), eb('last_heartbeat_at', '<', since)]));
    }
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map((r) => toNodeView(toNodeRecord(r), now, this.rules)), total: Number(total.n) };
  }

  async update(id: string, patch: NodePatch): Promise<NodeView> {
    const current = await this.getRow(id);
    if (patch.name !== undefined && patch.name !== current.name) await this.assertNameFree(patch.name);
    const values: Partial<NodeTable> = { updated_at: Date.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.api_url !== undefined) values.api_url = patch.api_url;
    if (patch.is_active !== undefined) values.is_active = patch.is_active ? StoredFlag.on : StoredFlag.off;
    if (patch.require_signed !== undefined)
      values.require_signed = patch.require_signed ? StoredFlag.on : StoredFlag.off;
    if (patch.sync_config?.max_capacity !== undefined) values.max_capacity = patch.sync_config.max_capacity;
    if (patch.sync_config?.feed_quota !== undefined) values.feed_quota = JSON.stringify(patch.sync_config.feed_quota);
    await this.db.updateTable('nodes').set(values).where('id', '=', id).execute();
    return this.view(toNodeRecord({ ...current, ...values }));
  }

  /** New key pair; the old one stops working with this statement. */
  async rotateCredentials(id: string): Promise<{ node: NodeView; credentials: NodeCredentials }> {
    const current = await this.getRow(id);
    if (Number(current.node_type) !== NodeType.child)
      throw new CascadeError('UNPROCESSABLE', 'Only child nodes have credentials.');
    const { apiKey, apiSecret } = newNodeCredentials();
    const notifyKey = newNotifyKey();
    const values = {
      api_key: apiKey,
      api_secret_hash: hashNodeSecret(apiSecret),
      ...(await this.sealedSecrets(id, apiSecret, notifyKey)),
      updated_at: Date.now(),
    };
    await this.db.updateTable('nodes').set(values).where('id', '=', id).execute();
    return {
      node: this.view(toNodeRecord({ ...current, ...values })),
      credentials: { api_key: apiKey, api_secret: apiSecret, notify_key: notifyKey },
    };
  }

  /** The active ones among `ids` that can be notified (an `api_url` and a notify key). */
  async notifyTargets(ids: readonly string[]): Promise<NotifyTarget[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('nodes')
      .select(['id', 'name', 'api_url', 'notify_key'])
      .where('id', 'in', [...new Set(ids)])
      .where('is_active', '=', StoredFlag.on)
      .where('api_url', 'is not', null)
      .where('notify_key', 'is not', null)
      .execute();
    const box = rows.some((r) => r.notify_key && isSealed(r.notify_key)) ? await this.secretBox() : undefined;
    return rows.flatMap((r) => {
      // Keys written before migration 010 are plain until a parent starts and seals them (or the node rotates).
      const key =
        r.notify_key && box && isSealed(r.notify_key) ? box.open(r.notify_key, `notify_key:${r.id}`) : r.notify_key;
      return r.api_url && key ? [{ id: r.id, name: r.name, api_url: r.api_url, notify_key: key }] : [];
    });
  }

  /** Seals notify keys stored in plain text before migration 010; returns how many it sealed. Safe to repeat. */
  async sealLegacyNotifyKeys(): Promise<number> {
    const rows = await this.db
      .selectFrom('nodes')
      .select(['id', 'notify_key'])
      .where('notify_key', 'is not', null)
      .where('notify_key', '!=', '')
      .execute();
    let sealed = 0;
    for (const row of rows) {
      const plain = row.notify_key;
      if (plain === null || isSealed(plain)) continue;
      const box = await this.secretBox();
      // Guarded on the old value: a rotation, or another parent sealing it first, wins.
      const result = await this.db
        .updateTable('nodes')
        .set({ notify_key: box.seal(plain, `notify_key:${row.id}`) })
        .where('id', '=', row.id)
        .where('notify_key', '=', plain)
        .executeTakeFirst();
      sealed += Number(result.numUpdatedRows);
    }
    return sealed;
  }

  /** The active child node with this key, for a signed request; undefined when unknown or disabled. */
  async forSignedRequest(apiKey: string): Promise<SigningNode | undefined> {
    const row = await this.db.selectFrom('nodes').selectAll().where('api_key', '=', apiKey).executeTakeFirst();
    if (!row || Number(row.is_active) !== StoredFlag.on) return undefined;
    const secret = row.api_secret_sealed
      ? (await this.secretBox()).open(row.api_secret_sealed, `api_secret:${row.id}`)
      : undefined;
    return { node: toNodeRecord(row), secret };
  }

  /**
   * Records a signed request's nonce until `expiresAtMs`; false when this node already used it (a replay). One insert
   * against the primary key, so two parent processes on one database cannot both accept it.
   */
  async rememberNonce(nodeId: string, nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    if (nowMs - this.lastNoncePurge > 60_000) {
      this.lastNoncePurge = nowMs;
      await this.db.deleteFrom('request_nonces').where('expires_at', '<', nowMs).execute();
    }
    try {
      await this.db.insertInto('request_nonces').values({ node_id: nodeId, nonce, expires_at: expiresAtMs }).execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** The active child node owning this key pair, or undefined (unknown key, wrong secret, disabled). */
  async authenticate(apiKey: string, apiSecret: string): Promise<NodeRecord | undefined> {
    const row = await this.db.selectFrom('nodes').selectAll().where('api_key', '=', apiKey).executeTakeFirst();
    if (!row || !row.api_secret_hash) return undefined;
    if (!verifyNodeSecret(apiSecret, row.api_secret_hash)) return undefined;
    if (Number(row.is_active) !== StoredFlag.on) return undefined;
    return toNodeRecord(row);
  }

  async recordHeartbeat(
    id: string,
    report: {
      callback_url?: string | undefined;
      current_tasks?: number | undefined;
      version?: string | undefined;
      hostname?: string | undefined;
      heartbeat_interval_ms?: number | undefined;
    },
    nowMs: number,
  ): Promise<void> {
    const values: Partial<NodeTable> = { last_heartbeat_at: nowMs, updated_at: nowMs };
    if (report.callback_url !== undefined) values.callback_url = report.callback_url;
    if (report.current_tasks !== undefined) values.reported_tasks = report.current_tasks;
    if (report.version !== undefined) values.version = report.version;
    if (report.hostname !== undefined) values.hostname = report.hostname;
    if (report.heartbeat_interval_ms !== undefined) values.heartbeat_interval_ms = report.heartbeat_interval_ms;
    await this.db.updateTable('nodes').set(values).where('id', '=', id).execute();
  }

  /** Online child nodes with the feed count their last heartbeat reported holding (`current_tasks`). */
  async onlineChildReports(nowMs: number): Promise<Array<{ id: string; name: string; reportedFeeds: number }>> {
    const rows = await this.db
      .selectFrom('nodes')
      .select(['id', 'name', 'reported_tasks'])
      .where('node_type', '=', NodeType.child)
      .where('is_active', '=', StoredFlag.on)
      .where('last_heartbeat_at', '>=', onlineSince(nowMs, this.rules.offlineAfterSeconds))
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, reportedFeeds: Number(r.reported_tasks) }));
  }

  async touchSync(id: string, nowMs: number): Promise<void> {
    await this.db.updateTable('nodes').set({ last_sync_at: nowMs }).where('id', '=', id).execute();
  }

  private async assertNameFree(name: string): Promise<void> {
    const clash = await this.db.selectFrom('nodes').select('id').where('name', '=', name).executeTakeFirst();
    if (clash) throw new CascadeError('CONFLICT', `A node named '${name}' already exists; pick another name.`);
  }
}
