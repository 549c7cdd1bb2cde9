import type { Kysely } from 'kysely';
import { isDue } from '../domain/feed-rhythm.js';
import { onlineSince } from '../domain/node-liveness.js';
import type { MessageTaskRecord } from './message-tasks.js';
import type { Database } from './tables.js';
import { chunk } from './time.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { NodeType } from '../domain/node-liveness.js';
import { StoredFlag } from './stored-flag.js';

/** A task's feeds as a dispatch sees them: `enabled` are the ones to dispatch now. */
export type ResolvedFeeds = {
  enabled: string[];
  disabled: string[];
  unknown: string[];
  /** Enabled but not due yet (Unix ms of when they are), soonest first; empty when forced or not asked. */
  notDue: Array<{ id: string; next_due_at: number }>;
};

/** The read side of a dispatch that task and feed CRUD do not offer: feed resolution and the online count. */
export class DispatchSources {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Splits a task's feed ids into enabled, disabled and unknown ones (de-duplicated, order kept). With `due`, the
   * enabled feeds that are not due yet (src/domain/feed-rhythm.ts `isDue`) move to `notDue`, soonest due first,
   * unless `due.force` (docs/refresh.md).
   */
  async resolveFeeds(
    task: Pick<MessageTaskRecord, 'feedIds'>,
    due?: { nowMs: number; force: boolean },
  ): Promise<ResolvedFeeds> {
    const ids = [...new Set(task.feedIds)];
    const status = new Map<string, number>();
    const dueAt = new Map<string, number | null>();
    for (const part of chunk(ids, 1000)) {
      for (const row of await this.db
        .selectFrom('feeds')
        .select(['id', 'status', 'next_due_at'])
        .where('id', 'in', part)
        .execute()) {
        status.set(row.id, Number(row.status));
        dueAt.set(row.id, row.next_due_at === null ? null : Number(row.next_due_at));
      }
    }
    const enabled = ids.filter((id) => status.get(id) === EnabledStatus.enabled);
    const notDue =
      due && !due.force
        ? enabled.flatMap((id) => {
            const at = dueAt.get(id) ?? null;
            return isDue(at, due.nowMs) ? [] : [{ id, next_due_at: at as number }];
          })
        : [];
    const skipped = new Set(notDue.map((f) => f.id));
    return {
      enabled: enabled.filter((id) => !skipped.has(id)),
      disabled: ids.filter((id) => status.has(id) && status.get(id) !== EnabledStatus.enabled),
      unknown: ids.filter((id) => !status.has(id)),
      notDue: notDue.sort((a, b) => a.next_due_at - b.next_due_at || (a.id < b.id ? -1 : 1)),
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
