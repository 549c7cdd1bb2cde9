import { describe, expect, it } from 'vitest';
import { planRun, type PlanOptions } from '../../chaos/lib/plan.js';
import { createPrng } from '../../chaos/lib/prng.js';

const OPTIONS: PlanOptions = {
  seed: 42,
  durationMs: 120_000,
  children: 4,
  feeds: 16,
  leaseSeconds: 4,
  databaseFaults: true,
};

describe('the seeded plan', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(planRun(OPTIONS)).toEqual(planRun(OPTIONS));
    expect(planRun({ ...OPTIONS, seed: 43 })).not.toEqual(planRun(OPTIONS));
    expect(Array.from({ length: 5 }, createPrng(9).next)).toEqual(Array.from({ length: 5 }, createPrng(9).next));
  });

  it('never puts two faults on one target at once, and every stop outlasts the lease', () => {
    const { faults } = planRun({ ...OPTIONS, durationMs: 30 * 60_000 });
    // Faults come in time order, so each needs checking only against the previous one on its target.
    const busyUntil = new Map<string, number>();
    for (const f of faults) {
      expect(f.atMs, `${f.kind} on ${f.target} at ${f.atMs} overlaps the one before`).toBeGreaterThanOrEqual(
        busyUntil.get(String(f.target)) ?? 0,
      );
      busyUntil.set(String(f.target), f.atMs + f.durationMs);
      if (f.kind === 'stop-child' || f.kind === 'stop-parent')
        expect(f.durationMs).toBeGreaterThan(OPTIONS.leaseSeconds * 1000);
      expect(f.atMs).toBeLessThan(30 * 60_000);
    }
    // A long plan uses every kind of fault.
    expect(new Set(faults.map((f) => f.kind)).size).toBe(9);
  });

  it('plans no database fault for SQLite', () => {
    const { faults } = planRun({ ...OPTIONS, durationMs: 30 * 60_000, databaseFaults: false });
    expect(faults.some((f) => f.kind === 'database-outage')).toBe(false);
    expect(faults.length).toBeGreaterThan(100);
  });

  it('dispatches regularly and grows only feeds that exist', () => {
    const { dispatches } = planRun(OPTIONS);
    expect(dispatches.length).toBeGreaterThanOrEqual(OPTIONS.durationMs / 5000 - 1);
    for (const d of dispatches) for (const g of d.newArticles) expect(g.feed).toBeLessThan(OPTIONS.feeds);
  });
});
