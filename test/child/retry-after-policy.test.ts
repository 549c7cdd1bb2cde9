import { describe, expect, it } from 'vitest';
import { decideRetryAfter, MAX_RETRY_AFTER_WAITS } from '../../src/child/retry-after-policy.js';

const now = 1_000_000;
const budget = { maxWaitMs: 60_000, reserveMs: 20_000, leaseExpiresAtMs: now + 120_000 };

describe('decideRetryAfter', () => {
  it('waits what the server asked when it is within the maximum and the lease', () => {
    expect(decideRetryAfter(5_000, 0, budget, now)).toEqual({ wait: true, waitMs: 5_000 });
    expect(decideRetryAfter(0, 0, budget, now)).toEqual({ wait: true, waitMs: 0 });
    // The lease leaves 100 s after the reserve for the fetch itself: 60 s (the maximum) fits.
    expect(decideRetryAfter(60_000, 0, budget, now)).toEqual({ wait: true, waitMs: 60_000 });
  });

  it('does not wait past the configured maximum, and says so', () => {
    const verdict = decideRetryAfter(61_000, 0, budget, now);
    expect(verdict).toEqual({
      wait: false,
      reason: expect.stringContaining('more than cascade.retry_after_max_seconds (60 s)'),
    });
    expect(decideRetryAfter(1_000, 0, { ...budget, maxWaitMs: 0 }, now)).toMatchObject({
      wait: false,
      reason: expect.stringContaining('is 0'),
    });
  });

  it('does not wait past the lease less the time the fetch needs', () => {
    const late = now + 90_000; // 30 s of lease left, 20 s of it kept for the fetch: 10 s to wait at most
    expect(decideRetryAfter(10_000, 0, budget, late)).toEqual({ wait: true, waitMs: 10_000 });
    expect(decideRetryAfter(11_000, 0, budget, late)).toEqual({
      wait: false,
      reason: expect.stringContaining("the allocation's lease leaves 10 s"),
    });
    // Without a lease from the parent (an older one), only the maximum bounds the wait.
    expect(decideRetryAfter(50_000, 0, { ...budget, leaseExpiresAtMs: undefined }, late)).toEqual({
      wait: true,
      waitMs: 50_000,
    });
  });

  it('stops waiting after a few refusals in a row', () => {
    expect(decideRetryAfter(1_000, MAX_RETRY_AFTER_WAITS - 1, budget, now)).toMatchObject({ wait: true });
    expect(decideRetryAfter(1_000, MAX_RETRY_AFTER_WAITS, budget, now)).toEqual({
      wait: false,
      reason: expect.stringContaining(`after waiting ${MAX_RETRY_AFTER_WAITS} times`),
    });
  });
});
