import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../src/auth/login-limiter.js';

const limits = { maxFailures: 5, windowMs: 300_000, accountFreeFailures: 10, accountMaxDelayMs: 60_000 };

describe('LoginLimiter', () => {
  it('spreading guesses on one username over 20 addresses buys one guess per growing delay, not 100', () => {
    const limiter = new LoginLimiter(limits);
    const now = 1_000_000;
    let evaluated = 0;
    for (let guess = 0; guess < 100; guess += 1) {
      const ip = `10.0.0.${guess % 20}`;
      if (limiter.lockout('admin', ip, now)) continue;
      evaluated += 1;
      limiter.recordFailure('admin', ip, now);
    }
    expect(evaluated).toBe(limits.accountFreeFailures);
  });

  it('doubles the per-username delay with each failure up to the cap, and a correct password from a new address waits at most the cap', () => {
    const limiter = new LoginLimiter(limits);
    let now = 0;
    for (let i = 0; i < limits.accountFreeFailures; i += 1) limiter.recordFailure('admin', `10.0.${i}.1`, now);
    const delays: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      const wait = limiter.lockout('admin', '192.0.2.1', now)?.retryAfterSeconds ?? 0;
      delays.push(wait);
      now += wait * 1000;
      expect(limiter.lockout('admin', `10.1.${i}.1`, now)).toBeUndefined();
      limiter.recordFailure('admin', `10.1.${i}.1`, now);
    }
    expect(delays).toEqual([4, 8, 16, 32, 60, 60, 60, 60, 60]);
    // The owner, from an address never seen, is held off no longer than the cap after the latest failure.
    expect(limiter.lockout('admin', '198.51.100.7', now)?.retryAfterSeconds).toBe(60);
    expect(limiter.lockout('admin', '198.51.100.7', now + 60_000)).toBeUndefined();
    limiter.recordSuccess('admin', '198.51.100.7');
    expect(limiter.lockout('admin', '203.0.113.9', now + 60_000)).toBeUndefined();
  });

  it('reports the failure that starts a lockout once, with its scope', () => {
    const limiter = new LoginLimiter(limits);
    const started = Array.from({ length: 8 }, () => limiter.recordFailure('bob', '10.9.9.9', 0));
    expect(started.filter(Boolean)).toEqual([{ scope: 'username at address', retryAfterSeconds: 300 }]);
    expect(started.findIndex(Boolean)).toBe(limits.maxFailures - 1);
  });

  it('forgets a username left alone for a whole window', () => {
    const limiter = new LoginLimiter(limits);
    for (let i = 0; i < 12; i += 1) limiter.recordFailure('carol', `10.2.${i}.1`, 0);
    expect(limiter.lockout('carol', '10.3.0.1', 1000)).toMatchObject({ scope: 'username' });
    expect(limiter.lockout('carol', '10.3.0.1', limits.windowMs + 1)).toBeUndefined();
    limiter.recordFailure('carol', '10.3.0.1', limits.windowMs + 1);
    expect(limiter.lockout('carol', '10.3.0.2', limits.windowMs + 2)).toBeUndefined();
  });
});
