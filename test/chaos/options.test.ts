import { describe, expect, it } from 'vitest';
import { parseChaosOptions } from '../../chaos/lib/options.js';

describe('chaos options', () => {
  it('replays: seed, store and minutes as given', () => {
    const options = parseChaosOptions(['--seed', '1234', '--store', 'postgres', '--minutes', '0.5'], {});
    expect(options).toMatchObject({ seed: 1234, minutes: 0.5 });
    expect(options.stores.map((s) => s.name)).toEqual(['postgres']);
  });

  it('defaults to every store and a random seed', () => {
    const options = parseChaosOptions([], {});
    expect(options.stores.map((s) => s.name)).toEqual(['sqlite', 'postgres', 'mysql']);
    expect(Number.isSafeInteger(options.seed)).toBe(true);
    expect(options.minutes).toBe(3);
  });

  it('rejects what it cannot replay', () => {
    expect(() => parseChaosOptions(['--seed', 'x'], {})).toThrow(/--seed/);
    expect(() => parseChaosOptions(['--store', 'oracle'], {})).toThrow(/--store/);
    expect(() => parseChaosOptions(['--minutes', '0'], {})).toThrow(/--minutes/);
    expect(() => parseChaosOptions(['--unknown'], {})).toThrow();
  });
});
