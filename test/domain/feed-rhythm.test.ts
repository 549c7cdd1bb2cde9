import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DUE_TOLERANCE_MS,
  FRESHNESS_DIVISOR,
  INITIAL_RHYTHM,
  LONG_GAP_MEDIANS,
  hintSeconds,
  historyRhythm,
  isDue,
  maxAgeFromCacheControl,
  nextRhythm,
  normalizeBounds,
  syndicationPeriodSeconds,
  ttlSecondsFromMinutes,
  type FetchObservation,
  type RefreshHints,
} from '../../src/domain/feed-rhythm.js';

const bounds = { minSeconds: 300, maxSeconds: 86_400 };
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const nowS = NOW / 1000;
const fetched = (newArticles: number, publishTimes: number[] = [], hints?: RefreshHints): FetchObservation => ({
  kind: 'fetched',
  newArticles,
  publishTimes,
  hints,
});

describe('isDue', () => {
  it('is due when never learned, past, or within the tolerance; not due later', () => {
    expect(isDue(null, NOW)).toBe(true);
    expect(isDue(NOW - 1, NOW)).toBe(true);
    expect(isDue(NOW + DUE_TOLERANCE_MS, NOW)).toBe(true);
    expect(isDue(NOW + DUE_TOLERANCE_MS + 1, NOW)).toBe(false);
  });
});

describe('nextRhythm', () => {
  it('learns an hourly feed from its history and fetches it at a quarter of its gap, not at the predicted publication', () => {
    // Published on the hour for 10 hours; the last 20 minutes ago.
    const times = Array.from({ length: 10 }, (_, i) => nowS - 20 * 60 - i * 3600);
    const decision = nextRhythm(INITIAL_RHYTHM, fetched(1, times), NOW, bounds);
    expect(decision.basis).toBe('history');
    expect(decision.intervalSeconds).toBe(3600 / FRESHNESS_DIVISOR);
    expect(decision.nextDueAtMs).toBe(NOW + (3600 / FRESHNESS_DIVISOR) * 1000);
  });

  it('an irregular feed is fetched often enough that an article waits at most about a quarter of its typical gap', () => {
    // The last 5 minutes ago, then gaps of 20 to 110 minutes (mean 60): a fetch aimed at "last + 60 min" would
    // miss every early article.
    const gapsMinutes = [110, 35, 85, 60, 20, 100, 40, 45, 45];
    const times = gapsMinutes.reduce<number[]>(
      (acc, gap) => [...acc, (acc[acc.length - 1] as number) - gap * 60],
      [nowS - 5 * 60],
    );
    const decision = nextRhythm(INITIAL_RHYTHM, fetched(1, times), NOW, bounds);
    expect(decision.intervalSeconds).toBe(15 * 60);
    expect(decision.nextDueAtMs - NOW).toBe(15 * 60 * 1000);
  });

  it('a feed with a daily gap is fetched every 6 hours; a weekly one at the bound', () => {
    const daily = Array.from({ length: 5 }, (_, i) => nowS - 3600 - i * 86_400);
    expect(nextRhythm(INITIAL_RHYTHM, fetched(1, daily), NOW, bounds).intervalSeconds).toBe(21_600);
    const weekly = Array.from({ length: 5 }, (_, i) => nowS - 3600 - i * 604_800);
    expect(nextRhythm(INITIAL_RHYTHM, fetched(1, weekly), NOW, bounds).intervalSeconds).toBe(bounds.maxSeconds);
  });

  it('merges a burst of articles into one publication event', () => {
    const bursts = [0, 1, 2].flatMap((day) => [0, 10, 20, 30].map((s) => nowS - 3600 - day * 86_400 - s));
    const rhythm = historyRhythm(bursts, NOW, 300);
    expect(rhythm?.gapSeconds).toBe(86_400);
  });

  it('a feed silent for far longer than its rhythm takes half its silence as its gap (dead feeds back off)', () => {
    const times = [10, 11, 12].map((d) => nowS - d * 86_400);
    expect(historyRhythm(times, NOW, 300)).toEqual({ gapSeconds: 5 * 86_400, silent: true });
    const decision = nextRhythm(INITIAL_RHYTHM, fetched(0, times), NOW, { minSeconds: 300, maxSeconds: 30 * 86_400 });
    expect(decision.basis).toBe('history');
    expect(decision.intervalSeconds).toBe((5 * 86_400) / FRESHNESS_DIVISOR);
    // Dead for a year: the default bounds' day.
    const dead = [365, 366, 367].map((d) => nowS - d * 86_400);
    expect(nextRhythm(INITIAL_RHYTHM, fetched(0, dead), NOW, bounds).intervalSeconds).toBe(bounds.maxSeconds);
  });

  it('without history: halves after new articles, doubles after none (a 304)', () => {
    const after304 = nextRhythm({ intervalSeconds: 1200, failures: 0, hintSeconds: null }, fetched(0), NOW, bounds);
    expect(after304).toMatchObject({ basis: 'adaptive', intervalSeconds: 2400, nextDueAtMs: NOW + 2400_000 });
    const afterNew = nextRhythm({ intervalSeconds: 1200, failures: 0, hintSeconds: null }, fetched(3), NOW, bounds);
    expect(afterNew.intervalSeconds).toBe(600);
  });

  it('the feed’s declared period, divided like a gap, is a floor and is kept across a 304 that says nothing', () => {
    const first = nextRhythm(INITIAL_RHYTHM, fetched(2, [], { ttlSeconds: 7200, maxAgeSeconds: 60 }), NOW, bounds);
    expect(first).toMatchObject({ intervalSeconds: 7200 / FRESHNESS_DIVISOR, hintSeconds: 7200 });
    const second = nextRhythm(first, fetched(5), NOW, bounds);
    expect(second).toMatchObject({ intervalSeconds: 7200 / FRESHNESS_DIVISOR, hintSeconds: 7200 });
  });

  it('an hourly feed declaring an hour is fetched every quarter hour, not hourly; a busier one still at the floor', () => {
    const hourly = Array.from({ length: 10 }, (_, i) => nowS - 20 * 60 - i * 3600);
    for (const hints of [{ ttlSeconds: 3600 }, { updatePeriodSeconds: 3600 }, { maxAgeSeconds: 3600 }]) {
      const decision = nextRhythm(INITIAL_RHYTHM, fetched(1, hourly, hints), NOW, bounds);
      expect(decision).toMatchObject({ basis: 'history', intervalSeconds: 900, nextDueAtMs: NOW + 900_000 });
    }
    // Publishing every 10 minutes but declaring an hour: the declaration still holds it to every 15 minutes.
    const busy = Array.from({ length: 10 }, (_, i) => nowS - 60 - i * 600);
    expect(nextRhythm(INITIAL_RHYTHM, fetched(1, busy, { ttlSeconds: 3600 }), NOW, bounds).intervalSeconds).toBe(900);
    // A weekly declaration still sends a feed without history to the bound.
    const weekly = nextRhythm(INITIAL_RHYTHM, fetched(0, [], { updatePeriodSeconds: 604_800 }), NOW, bounds);
    expect(weekly.intervalSeconds).toBe(bounds.maxSeconds);
  });

  it('a feed with exponential gaps is fetched about four times per publication (mean gap, not the median)', () => {
    // 19 gaps at the quantiles of an exponential distribution with a mean of one hour: the median gap is ~42 min.
    const gaps = Array.from({ length: 19 }, (_, i) => -Math.log(1 - (i + 0.5) / 19) * 3600);
    const times = gaps.reduce<number[]>((acc, gap) => [...acc, (acc[acc.length - 1] as number) - gap], [nowS - 60]);
    const decision = nextRhythm(INITIAL_RHYTHM, fetched(1, times, undefined), NOW, bounds);
    expect(decision.basis).toBe('history');
    // A median-based gap would fetch it every ~10 minutes (six times per publication).
    expect(decision.intervalSeconds).toBeGreaterThanOrEqual(13 * 60);
    expect(decision.intervalSeconds).toBeLessThanOrEqual(16 * 60);
  });

  it('one long pause in an active feed counts as at most LONG_GAP_MEDIANS median gaps', () => {
    // Nine gaps of an hour and one of two days: the typical gap is (9 × 1 h + 4 h) ÷ 10 = 78 min, not 5.7 h.
    expect(LONG_GAP_MEDIANS).toBe(4);
    const gapsHours = [1, 1, 1, 1, 48, 1, 1, 1, 1, 1];
    const times = gapsHours.reduce<number[]>(
      (acc, gap) => [...acc, (acc[acc.length - 1] as number) - gap * 3600],
      [nowS - 600],
    );
    expect(historyRhythm(times, NOW, 300)).toEqual({ gapSeconds: 78 * 60, silent: false });
    const decision = nextRhythm(INITIAL_RHYTHM, fetched(1, times), NOW, bounds);
    expect(decision.intervalSeconds).toBe((78 * 60) / FRESHNESS_DIVISOR);
  });

  it('backs off on failures and resets on the next success', () => {
    let state = nextRhythm({ intervalSeconds: 600, failures: 0, hintSeconds: null }, { kind: 'failed' }, NOW, bounds);
    expect(state).toMatchObject({ basis: 'backoff', failures: 1, intervalSeconds: 600, nextDueAtMs: NOW + 600_000 });
    state = nextRhythm(state, { kind: 'failed' }, NOW, bounds);
    expect(state).toMatchObject({ failures: 2, nextDueAtMs: NOW + 1200_000 });
    for (let i = 0; i < 20; i++) state = nextRhythm(state, { kind: 'failed' }, NOW, bounds);
    expect(state.nextDueAtMs).toBe(NOW + bounds.maxSeconds * 1000);
    expect(nextRhythm(state, fetched(0), NOW, bounds).failures).toBe(0);
  });

  it('always stays within the bounds, whatever it observes (generated input)', () => {
    const hints = fc.record({
      maxAgeSeconds: fc.option(fc.double({ min: -10, max: 1e9, noNaN: false }), { nil: undefined }),
      ttlSeconds: fc.option(fc.integer({ min: -5, max: 1e9 }), { nil: undefined }),
    });
    const observation: fc.Arbitrary<FetchObservation> = fc.oneof(
      fc.constant({ kind: 'failed' } as const),
      fc.record({
        kind: fc.constant('fetched' as const),
        newArticles: fc.nat(1000),
        publishTimes: fc.array(
          fc.oneof(
            fc.integer({ min: -100, max: 2e9 }),
            fc.constant(0),
            fc.integer({ min: nowS - 3e7, max: nowS + 1e5 }),
          ),
          { maxLength: 60 },
        ),
        hints: fc.option(hints, { nil: undefined }),
      }),
    );
    const previous = fc.record({
      intervalSeconds: fc.option(fc.integer({ min: -10, max: 1e9 }), { nil: null }),
      failures: fc.nat(2000),
      hintSeconds: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: null }),
    });
    const boundsArb = fc
      .tuple(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e7 }))
      .map(([a, b]) => ({ minSeconds: a, maxSeconds: b }));
    fc.assert(
      fc.property(
        previous,
        fc.array(observation, { minLength: 1, maxLength: 8 }),
        boundsArb,
        (start, observations, raw) => {
          const { minSeconds, maxSeconds } = normalizeBounds(raw);
          let state: ReturnType<typeof nextRhythm> | typeof start = start;
          for (const o of observations) {
            const decision = nextRhythm(state, o, NOW, raw);
            expect(decision.intervalSeconds).toBeGreaterThanOrEqual(minSeconds);
            expect(decision.intervalSeconds).toBeLessThanOrEqual(maxSeconds);
            expect(decision.nextDueAtMs - NOW).toBeGreaterThanOrEqual(minSeconds * 1000);
            expect(decision.nextDueAtMs - NOW).toBeLessThanOrEqual(maxSeconds * 1000);
            expect(Number.isInteger(decision.nextDueAtMs)).toBe(true);
            state = decision;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a feed that keeps answering 304 never fetches more often than before (generated input)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.nat(30), (interval, rounds) => {
        let state = nextRhythm({ intervalSeconds: interval, failures: 0, hintSeconds: null }, fetched(0), NOW, bounds);
        for (let i = 0; i < rounds; i++) {
          const next = nextRhythm(state, fetched(0), NOW, bounds);
          expect(next.intervalSeconds).toBeGreaterThanOrEqual(state.intervalSeconds);
          state = next;
        }
      }),
    );
  });
});

describe('hints', () => {
  it('reads Cache-Control max-age, not s-maxage, and nothing under no-store / no-cache', () => {
    expect(maxAgeFromCacheControl('public, max-age=1800')).toBe(1800);
    expect(maxAgeFromCacheControl('s-maxage=600')).toBeUndefined();
    expect(maxAgeFromCacheControl('s-maxage=600, max-age=60')).toBe(60);
    expect(maxAgeFromCacheControl('no-store, max-age=600')).toBeUndefined();
    expect(maxAgeFromCacheControl('max-age=0')).toBeUndefined();
    expect(maxAgeFromCacheControl(null)).toBeUndefined();
  });

  it('turns sy:updatePeriod / sy:updateFrequency and RSS ttl into seconds', () => {
    expect(syndicationPeriodSeconds('hourly', 2)).toBe(1800);
    expect(syndicationPeriodSeconds(undefined, 4)).toBe(21_600);
    expect(syndicationPeriodSeconds('weekly', undefined)).toBe(604_800);
    expect(syndicationPeriodSeconds('fortnightly', 1)).toBeUndefined();
    expect(syndicationPeriodSeconds('daily', 0)).toBeUndefined();
    expect(syndicationPeriodSeconds(undefined, undefined)).toBeUndefined();
    expect(ttlSecondsFromMinutes(60)).toBe(3600);
    expect(ttlSecondsFromMinutes(0)).toBeUndefined();
  });

  it('the declared period is the longest usable hint', () => {
    expect(hintSeconds({ maxAgeSeconds: 60, ttlSeconds: 3600, updatePeriodSeconds: 1800 })).toBe(3600);
    expect(hintSeconds({ maxAgeSeconds: -1, ttlSeconds: Number.NaN })).toBeUndefined();
    expect(hintSeconds(undefined)).toBeUndefined();
  });
});
