import { describe, expect, it } from 'vitest';
import { retryAfterSeconds } from '../../src/net/retry-after.js';
import { judgeAnswer } from '../../src/delivery/sender.js';
import { DELIVERY_MOVES, deliveryRetryDelayMs } from '../../src/domain/delivery-states.js';

describe('delivery states', () => {
  it('only a sending delivery can end; only a finished one can be redelivered', () => {
    expect(DELIVERY_MOVES.claim.from).toEqual(['pending']);
    for (const move of ['deliver', 'retry', 'fail'] as const) expect(DELIVERY_MOVES[move].from).toEqual(['sending']);
    expect([...DELIVERY_MOVES.redeliver.from].sort()).toEqual(['delivered', 'failed']);
  });

  it('retry delay doubles per attempt, is capped, and never undercuts Retry-After', () => {
    expect([1, 2, 3, 4].map((attempt) => deliveryRetryDelayMs(attempt, 10, 600))).toEqual([
      10_000, 20_000, 40_000, 80_000,
    ]);
    expect(deliveryRetryDelayMs(20, 10, 600)).toBe(600_000);
    expect(deliveryRetryDelayMs(1, 10, 600, 90)).toBe(90_000);
    expect(deliveryRetryDelayMs(1, 10, 600, 3)).toBe(10_000);
  });

  it('Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(retryAfterSeconds('120', now)).toBe(120);
    expect(retryAfterSeconds('Sun, 29 Nov 2026 12:01:30 GMT', now)).toBe(90);
    expect(retryAfterSeconds('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds(null, now)).toBeUndefined();
  });

  it('answers: 2xx delivers, silence/5xx/429/a bot refusal retries, other answers fail', () => {
    const answer = (status: number) => ({
      status,
      body: '',
      retryAfterSeconds: undefined,
      error: status === 0 ? 'timeout' : undefined,
    });
    expect(judgeAnswer(answer(204), undefined).move).toBe('deliver');
    expect(judgeAnswer(answer(200), 'dingtalk refused the message: 310000').move).toBe('retry');
    for (const status of [0, 500, 503, 429]) expect(judgeAnswer(answer(status), undefined).move).toBe('retry');
    for (const status of [301, 400, 401, 404, 413]) expect(judgeAnswer(answer(status), undefined).move).toBe('fail');
  });
});
