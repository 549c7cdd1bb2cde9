import { HELD_STATUSES, type AllocationStatus } from '../../domain/allocation-states.js';
import {
  hostsOfFeeds,
  limitsFor,
  whyWaiting,
  type HostState,
  type HostWait,
  type PolitenessRules,
} from '../../domain/host-politeness.js';
import type { Capabilities } from '../dialects/capabilities.js';
import { insertOrIgnore } from '../dialects/upsert.js';
import type { AllocationTable } from '../tables.js';
import { parseJson } from '../time.js';
import type { Trx } from './shared.js';

/**
 * The per-host counts of politeness (docs/politeness.md) in the database, which every parent shares: `host_state`
 * holds per host the feeds of claimed and executing allocations (`in_flight`), the last hand-out and a pause.
 * A claim locks the rows of its candidates' hosts (FOR UPDATE, in host order, after the node row; SQLite
 * serialises writers), admits what the limits allow and counts it in the same transaction; the moves that end or
 * requeue held work give back what their claim counted (the `hostSlots` effect in MOVES, applied by transition.ts).
 */

/** Feeds per host, as `allocations.held_hosts` keeps them. */
export type HostCounts = ReadonlyMap<string, number>;

export function encodeHostCounts(hosts: HostCounts): string | null {
  return hosts.size === 0
    ? null
    : JSON.stringify(Object.fromEntries([...hosts].sort(([a], [b]) => a.localeCompare(b))));
}

function decodeHostCounts(json: string | null | undefined): Map<string, number> {
  return new Map(
    Object.entries(parseJson<Record<string, number>>(json ?? null, {})).map(([host, n]) => [host, Number(n)]),
  );
}

/** Each candidate's feeds per host, from the feeds' URLs (one query). */
async function hostsOfRows(trx: Trx, rows: readonly AllocationTable[]): Promise<Map<string, Map<string, number>>> {
  const feedIds = [...new Set(rows.flatMap((row) => parseJson<string[]>(row.feed_ids, [])))];
  const urls = new Map<string, string>();
  if (feedIds.length > 0) {
    for (const feed of await trx.selectFrom('feeds').select(['id', 'url']).where('id', 'in', feedIds).execute())
      urls.set(feed.id, feed.url);
  }
  return new Map(
    rows.map((row) => [
      row.id,
      hostsOfFeeds(
        parseJson<string[]>(row.feed_ids, []).flatMap((id) => (urls.has(id) ? [urls.get(id) as string] : [])),
      ),
    ]),
  );
}

/** What a claim may hand out: the rows the hosts admit, in order, and why each other row waits. */
export type HostAdmission = {
  admitted: AllocationTable[];
  /** The waiting note of each row its hosts hold back. */
  waiting: Map<string, string>;
  hostsByRow: Map<string, Map<string, number>>;
  /** The earliest end of an interval or a pause that holds work back. */
  readyAt: number | undefined;
};

/**
 * Admits candidates in order while their hosts allow (in flight, min interval, pause), `take` of them at most,
 * and counts the admitted ones in `host_state`. Rows of hosts already handed work in this claim wait for the
 * interval too, so one claim cannot hand a host two fetches at once past its limits.
 */
export async function admitByHost(
  trx: Trx,
  caps: Capabilities,
  rules: PolitenessRules,
  candidates: readonly AllocationTable[],
  take: (row: AllocationTable) => boolean,
  nowMs: number,
): Promise<HostAdmission> {
  const hostsByRow = await hostsOfRows(trx, candidates);
  const hostNames = [...new Set([...hostsByRow.values()].flatMap((hosts) => [...hosts.keys()]))].sort();
  const states = await lockHostStates(trx, caps, hostNames, nowMs);
  const admitted: AllocationTable[] = [];
  const waiting = new Map<string, string>();
  const handed = new Map<string, number>();
  let readyAt: number | undefined;
  for (const row of candidates) {
    const hosts = hostsByRow.get(row.id) ?? new Map<string, number>();
    let why: HostWait | undefined;
    for (const [host, feeds] of hosts) {
      const state = states.get(host) as HostState;
      why = whyWaiting(host, feeds, state, limitsFor(rules, host), nowMs);
      if (why) break;
    }
    if (why) {
      waiting.set(row.id, why.note);
      if (why.readyAt !== undefined) readyAt = Math.min(readyAt ?? Infinity, why.readyAt);
      continue;
    }
    if (!take(row)) continue;
    admitted.push(row);
    for (const [host, feeds] of hosts) {
      const state = states.get(host) as HostState;
      states.set(host, { ...state, inFlight: state.inFlight + feeds, lastFetchAt: nowMs });
      handed.set(host, (handed.get(host) ?? 0) + feeds);
    }
  }
  for (const [host, feeds] of handed) {
    await trx
      .updateTable('host_state')
      .set((eb) => ({ in_flight: eb('in_flight', '+', feeds), last_fetch_at: nowMs, updated_at: nowMs }))
      .where('host', '=', host)
      .execute();
  }
  return { admitted, waiting, hostsByRow, readyAt };
}

/** The hosts' rows, created when missing and locked where the database has row locks, in host order. */
async function lockHostStates(
  trx: Trx,
  caps: Capabilities,
  hosts: readonly string[],
  nowMs: number,
): Promise<Map<string, HostState>> {
  const states = new Map<string, HostState>(
    hosts.map((host) => [host, { inFlight: 0, lastFetchAt: null, pausedUntil: null }]),
  );
  if (hosts.length === 0) return states;
  // Insert only the missing rows: MySQL's INSERT IGNORE share-locks the rows it skips, which a later FOR UPDATE
  // of two claimers would deadlock on.
  const known = new Set(
    (await trx.selectFrom('host_state').select('host').where('host', 'in', hosts).execute()).map((r) => r.host),
  );
  const missing = hosts
    .filter((host) => !known.has(host))
    .map((host) => ({
      host,
      in_flight: 0,
      last_fetch_at: null,
      paused_until: null,
      pause_reason: null,
      updated_at: nowMs,
    }));
  if (missing.length > 0) {
    const insert = trx.insertInto('host_state').values(missing);
    await insertOrIgnore(caps, insert, ['host']).execute();
  }
  const rows = await trx
    .selectFrom('host_state')
    .select(['host', 'in_flight', 'last_fetch_at', 'paused_until'])
    .where('host', 'in', hosts)
    .orderBy('host')
    .$if(caps.rowLocks, (q) => q.forUpdate())
    .execute();
  for (const row of rows) {
    states.set(row.host, {
      inFlight: Number(row.in_flight),
      lastFetchAt: row.last_fetch_at === null ? null : Number(row.last_fetch_at),
      pausedUntil: row.paused_until === null ? null : Number(row.paused_until),
    });
  }
  return states;
}

/** Gives back what the claims of held rows counted (the `free` host-slot effect); pending rows hold nothing. */
export async function freeHostSlots(trx: Trx, rows: readonly AllocationTable[], nowMs: number): Promise<void> {
  const perHost = new Map<string, number>();
  for (const row of rows) {
    if (!HELD_STATUSES.includes(row.status as AllocationStatus)) continue;
    for (const [host, feeds] of decodeHostCounts(row.held_hosts)) perHost.set(host, (perHost.get(host) ?? 0) + feeds);
  }
  // The claim locks host rows with `ORDER BY host FOR UPDATE`, in the database's collation (which need not be
  // JavaScript's order: en_US sorts 'a-c' after 'ab'); giving back in that same order, a completion and a claim
  // sharing two hosts wait for each other instead of deadlocking. One host needs no order.
  const hosts =
    perHost.size < 2
      ? [...perHost.keys()]
      : (
          await trx
            .selectFrom('host_state')
            .select('host')
            .where('host', 'in', [...perHost.keys()])
            .orderBy('host')
            .execute()
        ).map((row) => row.host);
  for (const host of hosts) {
    const feeds = perHost.get(host) as number;
    await trx
      .updateTable('host_state')
      .set((eb) => ({ in_flight: eb('in_flight', '-', feeds), updated_at: nowMs }))
      .where('host', '=', host)
      .execute();
  }
}

/** Records what the claim counted on each claimed row, for the move that later gives it back. */
export async function recordHeldHosts(
  trx: Trx,
  rows: readonly AllocationTable[],
  hostsByRow: ReadonlyMap<string, HostCounts>,
): Promise<void> {
  for (const row of rows) {
    const held = encodeHostCounts(hostsByRow.get(row.id) ?? new Map());
    if (held !== null)
      await trx.updateTable('allocations').set({ held_hosts: held }).where('id', '=', row.id).execute();
  }
}
