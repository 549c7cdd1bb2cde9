import type { Kysely } from 'kysely';
import { onlineSince } from '../domain/node-liveness.js';
import type { Database, MessageTaskTable } from './tables.js';
import { chunk, parseJson } from './time.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { NodeType } from '../domain/node-liveness.js';
import { StoredFlag } from './stored-flag.js';

/** The read side of a dispatch that task and feed CRUD do not offer: feed resolution and the online count. */
export class DispatchSources {
  constructor(private readonly db: Kysely<Database>) {}

  /** Splits a task's feed ids into enabled, disabled and unknown ones (de-duplicated, order kept). */
  async resolveFeeds(task: MessageTaskTable): Promise<{ enabled: string[]; disabled: string[]; unknown: string[] }> {
    const ids = [...new Set(parseJson<Array<{ id?: unknown }>>(task.mps_id, []).map((m) => (typeof m?.id === 'string' ? m.id : '')).filter(Boolean))];
    const status = new Map<string, number>();
    for (const part of chunk(ids, 1000)) {
      for (const row of await this.db.selectFrom('feeds').select(['id', 'status']).where('id', 'in', part).execute()) status.set(row.id, Number(row.status));
    }
    return {
      enabled: ids.filter((id) => status.get(id) === EnabledStatus.enabled),
      disabled: ids.filter((id) => status.has(id) && status.get(id) !== EnabledStatus.enabled),
      unknown: ids.filter((id) => !status.has(id)),
    };
  }

  async onlineNodeCount(nowMs: number, offlineAfterSeconds: number): Promise<number> {
    const row = await this.db
      .selectFrom('nodes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('node_type', '=', NodeType.child)
      .where('is_active', '=', StoredFlag.on)
      .where('last_heartbeat_at', '>=', onlineSince(nowMs, offlineAfterSeconds))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
