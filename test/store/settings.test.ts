import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';

describeEachStore('settings store', (dialect) => {
  let first: Store;
  let second: Store;
  beforeAll(async () => {
    const url = await dialect.createDatabase();
    first = await openTestStore(url);
    // A second, independent connection pool stands in for another parent process.
    second = await openTestStore(url);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('returns undefined for an unknown key and keeps the first value written', async () => {
    expect(await first.settings.get('missing')).toBeUndefined();
    expect(await first.settings.getOrCreate('k1', () => 'one')).toBe('one');
    expect(await second.settings.getOrCreate('k1', () => 'two')).toBe('one');
  });

  it('gives concurrent callers on two connections the same value', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const callers = Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? first : second).settings.getOrCreate(key, () => `value-${i}`),
      );
      const values = await Promise.all(callers);
      expect(new Set(values).size).toBe(1);
      expect(await first.settings.get(key)).toBe(values[0]);
    }
  });
});
