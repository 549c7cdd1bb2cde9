/**
 * Fetch only what is due (issue 17, item 2; docs/refresh.md): how often a feed is worth fetching, learned from its
 * history and from what the feed itself declares, and when it is next due. Pure: no clock, no store; the parent
 * applies it in the completion and failure paths (src/store/feed-rhythm.ts), and the dispatch asks `isDue`.
 *
 * Times: `nowMs` and `nextDueAtMs` are Unix milliseconds; publish times and intervals are seconds (articles
 * store `publish_time` in Unix seconds).
 */

/** `refresh.min_interval` and `refresh.max_interval`, in seconds: every learned interval and delay lies within. */
export type RefreshBounds = { readonly minSeconds: number; readonly maxSeconds: number };

/** The config defaults: 5 minutes and 1 day. */
export const DEFAULT_REFRESH_BOUNDS: RefreshBounds = Object.freeze({ minSeconds: 300, maxSeconds: 86_400 });

/**
 * What the feed said about its own rhythm in the last answer, in seconds (the child reads it; the original child
 * sends none): `Cache-Control: max-age`, RSS `<ttl>` (minutes on the wire), and `sy:updatePeriod` ×
 * `sy:updateFrequency` turned into one period.
 */
export type RefreshHints = {
  readonly maxAgeSeconds?: number | undefined;
  readonly ttlSeconds?: number | undefined;
  readonly updatePeriodSeconds?: number | undefined;
};

/** What the parent keeps per feed between fetches (columns of `feeds`, migration 014). */
export type FeedRhythm = {
  /** The learned interval; null before the first fetch the parent learned from (then `minSeconds` is assumed). */
  readonly intervalSeconds: number | null;
  /** Failed fetches in a row since the last success. */
  readonly failures: number;
  /** The longest period the feed last declared (hintSeconds), kept because a 304 answer carries no body. */
  readonly hintSeconds: number | null;
};

export const INITIAL_RHYTHM: FeedRhythm = Object.freeze({ intervalSeconds: null, failures: 0, hintSeconds: null });

/** One fetch as the parent saw it. */
export type FetchObservation =
  | {
      readonly kind: 'fetched';
      /** Articles first stored by this fetch (0: a 304, or nothing new). */
      readonly newArticles: number;
      /** Publish times (Unix seconds) of the feed's most recent stored articles, any order; 0 or less = unknown. */
      readonly publishTimes: readonly number[];
      /** Undefined: the child said nothing (the original child); the last declared hint stays. */
      readonly hints?: RefreshHints | undefined;
    }
  | { readonly kind: 'failed' };

/** Which part of the rule set the next due time (shown in docs and tests). */
export type RhythmBasis = 'history' | 'adaptive' | 'backoff';

export type RhythmDecision = FeedRhythm & {
  readonly intervalSeconds: number;
  readonly nextDueAtMs: number;
  readonly basis: RhythmBasis;
};

/** A feed due within this margin counts as due, so a cron firing on the feed's interval is not beaten by a fetch's duration. */
export const DUE_TOLERANCE_MS = 60_000;

/** Publish events considered: the most recent ones say most about the feed's current rhythm. */
export const HISTORY_EVENTS = 20;

/**
 * An active feed is fetched every typical gap ÷ this: an article then waits at most about a quarter of the feed's
 * gap (an hourly feed: ~15 minutes), and a feed costs about this many fetches per publication. A declared period
 * is divided the same way.
 */
export const FRESHNESS_DIVISOR = 4;

/**
 * A gap longer than this many median gaps counts as this many in the typical gap: one holiday pause must not stretch
 * an active feed's interval, while the ordinary long gaps of irregular publication still count (for exponential
 * gaps, 6 % of them are longer than 4 medians).
 */
export const LONG_GAP_MEDIANS = 4;

/** Fewest publish events (two gaps) from which the history rule is trusted. */
const MIN_HISTORY_EVENTS = 3;

/** A feed due at `nextDueAtMs` (null: never fetched, or never learned) is due at `nowMs`. */
export function isDue(nextDueAtMs: number | null, nowMs: number): boolean {
  return nextDueAtMs === null || nextDueAtMs <= nowMs + DUE_TOLERANCE_MS;
}

/** Bounds as configured, made safe: whole seconds, at least 1, and max ≥ min. */
export function normalizeBounds(bounds: RefreshBounds): RefreshBounds {
  const minSeconds = Math.max(1, Math.floor(finiteOr(bounds.minSeconds, DEFAULT_REFRESH_BOUNDS.minSeconds)));
  const maxSeconds = Math.max(minSeconds, Math.floor(finiteOr(bounds.maxSeconds, DEFAULT_REFRESH_BOUNDS.maxSeconds)));
  return { minSeconds, maxSeconds };
}

/**
 * The feed's declared period: the longest of max-age, ttl and the syndication period (what the feed says about how
 * often it changes; `nextRhythm` fetches it at most every period ÷ FRESHNESS_DIVISOR). Undefined when it declares
 * nothing usable (absent, zero, negative, not finite).
 */
export function hintSeconds(hints: RefreshHints | undefined): number | undefined {
  if (!hints) return undefined;
  const declared = [hints.maxAgeSeconds, hints.ttlSeconds, hints.updatePeriodSeconds].filter(
    (s): s is number => typeof s === 'number' && Number.isFinite(s) && s > 0,
  );
  return declared.length === 0 ? undefined : Math.round(Math.max(...declared));
}

/**
 * The rule. A failure keeps the learned interval and backs off: interval × 2^(failures−1), within the bounds. A
 * fetch resets the failures and learns:
 * 1. history: the recent publish times, merged into events (times closer than `minSeconds` are one event: one
 *    fetch collects them all). From 3 events on, the typical gap G is the mean gap, each gap counted at most
 *    LONG_GAP_MEDIANS median gaps; if the feed has been silent for more than 2 G it is slowing down or dead, and
 *    the gap taken is half the silence instead. The feed is then fetched every gap ÷ FRESHNESS_DIVISOR: the aim is
 *    freshness, not the next publication. Publication is irregular (a feed that posts "hourly" posts at random
 *    moments about an hour apart), so a fetch aimed at the predicted publication leaves an article waiting up to a
 *    whole gap whenever the guess is wrong; polling at a fraction of the gap keeps every article's wait below that
 *    fraction, whatever the irregularity, while feeds with long gaps and dead feeds still back off towards
 *    `maxSeconds`. The mean, not the median: irregular gaps are skewed (exponential gaps have a median of 0.69 of
 *    their mean), so a median-based G fetched such a feed about 6 times per publication instead of 4, for no
 *    article collected sooner than a quarter of its real gap asks.
 * 2. adaptive, with less history: halve the interval after new articles, double it after none.
 * Then the feed's own declaration (hintSeconds) is taken as a gap too: the interval is at least the declared period
 * ÷ FRESHNESS_DIVISOR, and the bounds clamp the result. Not the whole declared period: declarations are mostly
 * generator defaults (`sy:updatePeriod` hourly, `<ttl>60</ttl>`, a CDN's max-age) that say little about when the
 * next article comes, and as a floor they left an hourly feed's articles waiting up to the whole hour
 * (docs/refresh.md, the crawl benchmark). A fetch within the declared period is a conditional request, and the
 * origin's real limits are kept by per-host politeness and Retry-After (src/domain/host-politeness.ts).
 */
export function nextRhythm(
  previous: FeedRhythm,
  observation: FetchObservation,
  nowMs: number,
  bounds: RefreshBounds,
): RhythmDecision {
  const { minSeconds, maxSeconds } = normalizeBounds(bounds);
  const clamp = (seconds: number) => Math.min(maxSeconds, Math.max(minSeconds, Math.round(seconds)));
  const base = clamp(previous.intervalSeconds ?? minSeconds);
  if (observation.kind === 'failed') {
    const failures = Math.min(previous.failures + 1, 1000);
    const delay = clamp(base * 2 ** Math.min(failures - 1, 30));
    return {
      intervalSeconds: base,
      failures,
      hintSeconds: previous.hintSeconds,
      nextDueAtMs: nowMs + delay * 1000,
      basis: 'backoff',
    };
  }
  const hint = hintSeconds(observation.hints) ?? previous.hintSeconds;
  const floor = hint === null ? minSeconds : clamp(hint / FRESHNESS_DIVISOR);
  const rhythm = historyRhythm(observation.publishTimes, nowMs, minSeconds);
  if (rhythm) {
    const intervalSeconds = clamp(Math.max(rhythm.gapSeconds / FRESHNESS_DIVISOR, floor));
    return {
      intervalSeconds,
      failures: 0,
      hintSeconds: hint,
      nextDueAtMs: nowMs + intervalSeconds * 1000,
      basis: 'history',
    };
  }
  const estimate = observation.newArticles > 0 ? base / 2 : base * 2;
  const intervalSeconds = clamp(Math.max(estimate, floor));
  return {
    intervalSeconds,
    failures: 0,
    hintSeconds: hint,
    nextDueAtMs: nowMs + intervalSeconds * 1000,
    basis: 'adaptive',
  };
}

/**
 * The feed's typical gap between publications from its publish times, or undefined with fewer than
 * MIN_HISTORY_EVENTS events: the mean gap with each gap capped at LONG_GAP_MEDIANS median gaps, or half the current
 * silence when that is longer than two typical gaps (the feed slows down or died). Times in the future (beyond a day of clock skew) are ignored: a wrong date must
 * not make a feed look busy.
 */
export function historyRhythm(
  publishTimes: readonly number[],
  nowMs: number,
  mergeWithinSeconds: number,
): { gapSeconds: number; silent: boolean } | undefined {
  const nowSeconds = nowMs / 1000;
  const times = [...new Set(publishTimes.filter((t) => Number.isFinite(t) && t > 0 && t <= nowSeconds + 86_400))]
    .sort((a, b) => b - a)
    .slice(0, HISTORY_EVENTS * 5);
  const events: number[] = [];
  for (const time of times) {
    const last = events[events.length - 1];
    // Newest first: a time within the merge window of the event after it belongs to that event.
    if (last === undefined || last - time >= mergeWithinSeconds) events.push(time);
    if (events.length >= HISTORY_EVENTS) break;
  }
  if (events.length < MIN_HISTORY_EVENTS) return undefined;
  const gaps = events.slice(1).map((time, i) => (events[i] as number) - time);
  const cap = LONG_GAP_MEDIANS * median(gaps);
  const typicalGap = Math.max(1, gaps.reduce((sum, gap) => sum + Math.min(gap, cap), 0) / gaps.length);
  const silence = Math.max(0, nowSeconds - (events[0] as number));
  return silence > 2 * typicalGap
    ? { gapSeconds: silence / 2, silent: true }
    : { gapSeconds: typicalGap, silent: false };
}

/** `Cache-Control: max-age=N` in seconds (s-maxage is for shared caches, not us); undefined without one. */
export function maxAgeFromCacheControl(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const match = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/i.exec(header);
  if (!match || /(?:^|[,\s])(no-store|no-cache)(?:$|[,\s=])/i.test(header)) return undefined;
  const seconds = Number(match[1]);
  return seconds > 0 ? seconds : undefined;
}

const PERIOD_SECONDS: Readonly<Record<string, number>> = {
  hourly: 3600,
  daily: 86_400,
  weekly: 604_800,
  monthly: 2_592_000,
  yearly: 31_536_000,
};

/**
 * `sy:updatePeriod` (hourly, daily, weekly, monthly, yearly; default daily) divided by `sy:updateFrequency`
 * (default 1): the feed's declared update period in seconds; undefined when it declares neither or nonsense.
 */
export function syndicationPeriodSeconds(
  period: string | undefined,
  frequency: number | undefined,
): number | undefined {
  if (period === undefined && frequency === undefined) return undefined;
  const periodSeconds = PERIOD_SECONDS[(period ?? 'daily').trim().toLowerCase()];
  const times = frequency ?? 1;
  if (periodSeconds === undefined || !Number.isFinite(times) || times < 1) return undefined;
  return Math.round(periodSeconds / Math.floor(times));
}

/** RSS `<ttl>` is in minutes. */
export function ttlSecondsFromMinutes(minutes: number | undefined): number | undefined {
  return typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? Math.round(minutes * 60) : undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
