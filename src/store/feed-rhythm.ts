import type { Kysely } from 'kysely';
import {
  DEFAULT_REFRESH_BOUNDS,
  HISTORY_EVENTS,
  nextRhythm,
  type FetchObservation,
  type RefreshBounds,
  type RefreshHints as DomainHints,
} from '../domain/feed-rhythm.js';
import type { RefreshHints } from '../protocol/child-requests.js';
import type { ReportedFetch } from './allocations/completion-plan.js';
import type { Capabilities } from './dialects/capabilities.js';
import { compareKeys } from './key-order.js';
import type { Database, FeedTable } from './tables.js';

/**
 * The store side of "fetch only what is due" (docs/refresh.md): reads what src/domain/feed-rhythm.ts needs for a
 * feed (its rhythm columns, its recent publish times, what was new) and writes what it decides. The completion
 * and failure moves call it inside their own transaction; PostgreSQL's one-statement completion reads before its
 * statement and writes within it (src/store/allocations/single-statement.ts).
 */

type Queryable = Pick<Kysely<Database>, 'selectFrom'>;

/** What one feed's row gets: the columns of migration 014. */
export type RhythmUpdate = {
  id: string;
  next_due_at: number;
  refresh_interval_seconds: number;
  refresh_failures: number;
  refresh_hint_seconds: number | null;
};

/** Articles per feed read for its history: enough for HISTORY_EVENTS events when some share a publish burst. */
const HISTORY_ROWS = HISTORY_EVENTS * 5;

type RhythmRow = Pick<
  FeedTable,
  'id' | 'sync_time' | 'refresh_interval_seconds' | 'refresh_failures' | 'refresh_hint_seconds'
>;

async function rhythmRows(db: Queryable, feedIds: readonly string[]): Promise<Map<string, RhythmRow>> {
  if (feedIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('feeds')
    .select(['id', 'sync_time', 'refresh_interval_seconds', 'refresh_failures', 'refresh_hint_seconds'])
    .where('id', 'in', [...new Set(feedIds)])
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

function previousOf(row: RhythmRow) {
  return {
    intervalSeconds: row.refresh_interval_seconds === null ? null : Number(row.refresh_interval_seconds),
    failures: Number(row.refresh_failures ?? 0),
    hintSeconds: row.refresh_hint_seconds === null ? null : Number(row.refresh_hint_seconds),
  };
}

function toUpdate(id: string, decision: ReturnType<typeof nextRhythm>): RhythmUpdate {
  return {
    id,
    next_due_at: decision.nextDueAtMs,
    refresh_interval_seconds: decision.intervalSeconds,
    refresh_failures: decision.failures,
    refresh_hint_seconds: decision.hintSeconds,
  };
}

function domainHints(hints: RefreshHints | undefined): DomainHints | undefined {
  if (!hints) return undefined;
  return {
    maxAgeSeconds: hints.max_age_seconds,
    ttlSeconds: hints.ttl_seconds,
    updatePeriodSeconds: hints.update_period_seconds,
  };
}

type HistoryRow = { publish_time: number; created_at: number };

/**
 * Each feed's rhythm columns and its newest articles (HISTORY_ROWS, newest first): one statement where the
 * database joins laterally (a completion then costs one read, not one plus one per feed), else one for the feeds
 * and one per feed in `withHistory`.
 */
async function rhythmInputs(
  db: Queryable,
  caps: Pick<Capabilities, 'lateralJoins'>,
  feedIds: readonly string[],
  withHistory: ReadonlySet<string>,
): Promise<Map<string, { row: RhythmRow; history: HistoryRow[] }>> {
  const ids = [...new Set(feedIds)];
  const out = new Map<string, { row: RhythmRow; history: HistoryRow[] }>();
  if (ids.length === 0) return out;
  if (caps.lateralJoins) {
    const rows = await db
      .selectFrom('feeds')
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('articles')
            .select(['publish_time', 'created_at'])
            .whereRef('articles.mp_id', '=', 'feeds.id')
            .orderBy('publish_time', 'desc')
            .limit(HISTORY_ROWS)
            .as('history'),
        (join) => join.onTrue(),
      )
      .select([
        'feeds.id',
        'feeds.sync_time',
        'feeds.refresh_interval_seconds',
        'feeds.refresh_failures',
        'feeds.refresh_hint_seconds',
        'history.publish_time',
        'history.created_at',
      ])
      .where('feeds.id', 'in', ids)
      .orderBy('feeds.id')
      .orderBy('history.publish_time', 'desc')
      .execute();
    for (const { publish_time, created_at, ...row } of rows) {
      const entry = out.get(row.id) ?? { row, history: [] };
      out.set(row.id, entry);
      if (publish_time !== null && created_at !== null && withHistory.has(row.id))
        entry.history.push({ publish_time: Number(publish_time), created_at: Number(created_at) });
    }
    return out;
  }
  for (const [id, row] of await rhythmRows(db, ids)) {
    const history = withHistory.has(id)
      ? (
          await db
            .selectFrom('articles')
            .select(['publish_time', 'created_at'])
            .where('mp_id', '=', id)
            .orderBy('publish_time', 'desc')
            .limit(HISTORY_ROWS)
            .execute()
        ).map((a) => ({ publish_time: Number(a.publish_time), created_at: Number(a.created_at) }))
      : [];
    out.set(id, { row, history });
  }
  return out;
}

/**
 * The rhythm updates of a completion, read before its feeds' times move (`sync_time` still says when the previous
 * fetch was accepted: an article stored after it is new, for a child that does not count new articles itself).
 * `fetches`: the reported feeds; when the report named none (the original child's bare `completed`), every feed
 * of the allocation counts as fetched.
 */
export async function completionRhythm(
  db: Queryable,
  caps: Pick<Capabilities, 'lateralJoins'>,
  fetches: readonly ReportedFetch[],
  allocationFeedIds: readonly string[],
  nowMs: number,
  bounds: RefreshBounds = DEFAULT_REFRESH_BOUNDS,
): Promise<RhythmUpdate[]> {
  const subjects: ReportedFetch[] =
    fetches.length > 0
      ? [...fetches]
      : allocationFeedIds.map((id) => ({ id, failed: false, newArticleCount: undefined, hints: undefined }));
  const inputs = await rhythmInputs(
    db,
    caps,
    subjects.map((s) => s.id),
    new Set(subjects.filter((s) => !s.failed).map((s) => s.id)),
  );
  const updates: RhythmUpdate[] = [];
  const seen = new Set<string>();
  for (const fetch of subjects) {
    const input = inputs.get(fetch.id);
    if (!input || seen.has(fetch.id)) continue;
    seen.add(fetch.id);
    const { row, history } = input;
    let observation: FetchObservation;
    if (fetch.failed) {
      observation = { kind: 'failed' };
    } else {
      const acceptedBeforeMs = row.sync_time === null ? -1 : Number(row.sync_time) * 1000;
      const newArticles = fetch.newArticleCount ?? history.filter((a) => a.created_at > acceptedBeforeMs).length;
      observation = {
        kind: 'fetched',
        newArticles,
        publishTimes: history.map((a) => a.publish_time),
        hints: domainHints(fetch.hints),
      };
    }
    updates.push(toUpdate(fetch.id, nextRhythm(previousOf(row), observation, nowMs, bounds)));
  }
  return updates;
}

/** The backoff of feeds whose allocation ended without results (failed on its last attempt, timed out). */
export async function failureRhythm(
  db: Queryable,
  feedIds: readonly string[],
  nowMs: number,
  bounds: RefreshBounds = DEFAULT_REFRESH_BOUNDS,
): Promise<RhythmUpdate[]> {
  const rows = await rhythmRows(db, feedIds);
  return [...rows.values()].map((row) =>
    toUpdate(row.id, nextRhythm(previousOf(row), { kind: 'failed' }, nowMs, bounds)),
  );
}

/**
 * Writes the updates of work that ended without results, one UPDATE by key per feed, in key order
 * (src/store/key-order.ts). A completion writes its rhythm with its other feed changes
 * (src/store/allocations/completion-feeds.ts).
 */
export async function writeRhythm(
  trx: Pick<Kysely<Database>, 'updateTable'>,
  updates: readonly RhythmUpdate[],
): Promise<void> {
  for (const { id, ...values } of [...updates].sort((a, b) => compareKeys(a.id, b.id)))
    await trx.updateTable('feeds').set(values).where('id', '=', id).execute();
}
