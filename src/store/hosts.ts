import type { Kysely } from 'kysely';
import { hostKeyOf, limitsFor, pauseUntil, type PolitenessRules } from '../domain/host-politeness.js';
import type { Capabilities } from './dialects/capabilities.js';
import { insertOrIgnore } from './dialects/upsert.js';
import type { Database } from './tables.js';

/** One host as `GET /api/v1/cascade/hosts` shows it. */
export type HostView = {
  host: string;
  in_flight: number;
  max_in_flight: number;
  min_interval_ms: number;
  last_fetch_at: string | null;
  paused_until: string | null;
  pause_reason: string | null;
};

/** A feed whose host asked to be left alone: its id and the `Retry-After` in seconds. */
export type RetryAfterReport = { feedId: string; seconds: number };

/**
 * Per-host politeness state outside the moves (docs/politeness.md): the fleet-wide pause a reported `Retry-After`
 * causes, and the read side. The counts themselves change only with the moves (store/allocations/host-slots.ts).
 */
export class HostsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: Capabilities,
    readonly rules: PolitenessRules,
  ) {}

  /**
   * Pauses the hosts of the reported feeds until now + their Retry-After (at most `max_pause_seconds`); a pause
   * already running longer stays. Returns the hosts paused, each with its end.
   */
  async pause(reports: readonly RetryAfterReport[], reason: string, nowMs = Date.now()): Promise<Map<string, number>> {
    const paused = new Map<string, number>();
    if (!this.rules.enabled || reports.length === 0) return paused;
    const feeds = await this.db
      .selectFrom('feeds')
      .select(['id', 'url'])
      .where('id', 'in', [...new Set(reports.map((r) => r.feedId))])
      .execute();
    const urls = new Map(feeds.map((feed) => [feed.id, feed.url]));
    for (const { feedId, seconds } of reports) {
      const url = urls.get(feedId);
      const host = url === undefined ? undefined : hostKeyOf(url);
      const until = pauseUntil(seconds, this.rules, nowMs);
      if (host === undefined || until === undefined) continue;
      paused.set(host, Math.max(paused.get(host) ?? 0, until));
    }
    for (const [host, until] of [...paused].sort(([a], [b]) => a.localeCompare(b))) {
      const note = reason.slice(0, 500);
      const insert = this.db.insertInto('host_state').values({
        host,
        in_flight: 0,
        last_fetch_at: null,
        paused_until: until,
        pause_reason: note,
        updated_at: nowMs,
      });
      // A guarded update when the row exists (a longer pause wins), an insert when it does not.
      const updated = await this.db
        .updateTable('host_state')
        .set({ paused_until: until, pause_reason: note, updated_at: nowMs })
        .where('host', '=', host)
        .where((eb) => eb.or([eb('paused_until', 'is', null), eb('paused_until', '<', until)]))
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await insertOrIgnore(this.caps, insert, ['host']).execute();
      }
    }
    return paused;
  }

  /** Every host with work in flight, a recent hand-out or a pause, busiest first. */
  async list(limit = 500): Promise<HostView[]> {
    const rows = await this.db
      .selectFrom('host_state')
      .selectAll()
      .orderBy('in_flight', 'desc')
      .orderBy('host')
      .limit(limit)
      .execute();
    return rows.map((row) => {
      const limits = limitsFor(this.rules, row.host);
      return {
        host: row.host,
        in_flight: Number(row.in_flight),
        max_in_flight: limits.maxInFlight,
        min_interval_ms: limits.minIntervalMs,
        last_fetch_at: row.last_fetch_at === null ? null : new Date(Number(row.last_fetch_at)).toISOString(),
        paused_until: row.paused_until === null ? null : new Date(Number(row.paused_until)).toISOString(),
        pause_reason: row.pause_reason,
      };
    });
  }

  /** Feeds in flight per host (the metrics' gauge reads the busiest few). */
  async inFlight(limit: number): Promise<Array<{ host: string; inFlight: number }>> {
    const rows = await this.db
      .selectFrom('host_state')
      .select(['host', 'in_flight'])
      .where('in_flight', '>', 0)
      .orderBy('in_flight', 'desc')
      .orderBy('host')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ host: row.host, inFlight: Number(row.in_flight) }));
  }
}
