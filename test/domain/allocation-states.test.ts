import { describe, expect, it } from 'vitest';
import {
  HELD_STATUSES,
  LIVE_STATUSES,
  MOVES,
  type AllocationStatus,
  type Move,
} from '../../src/domain/allocation-states.js';

/**
 * The move table's entries checked against the rules they must keep together: a holder's load counts the feeds of
 * the live work it holds, the attempt history has an open row exactly while work is held, and the live-feed index
 * holds exactly the live work.
 */
const moves = Object.entries(MOVES) as Array<[Move, (typeof MOVES)[Move]]>;
const live = (status: AllocationStatus) => LIVE_STATUSES.includes(status);
const held = (status: AllocationStatus) => HELD_STATUSES.includes(status);

describe('allocation move table', () => {
  it.each(moves)('%s keeps the load counter equal to the live work each node holds', (_move, spec) => {
    for (const from of spec.from) {
      const countedBefore = live(from) && !spec.unassignedOnly;
      const holderAfter = spec.holder === 'pool' ? false : true;
      const countedAfter = holderAfter && live(spec.to);
      if (spec.load === 'take') expect([countedBefore, countedAfter]).toEqual([true, true]); // pre-assigned or pooled: counted for the claimer after
      if (spec.load === 'free') expect([countedBefore, countedAfter]).toEqual([true, false]);
      if (spec.load === 'keep') expect(countedBefore && spec.holder !== 'keep').toBe(false);
      if (spec.load === 'keep') expect(countedBefore).toBe(countedAfter);
    }
  });

  it.each(moves)('%s opens, keeps or closes the attempt as work becomes held or stops being held', (_move, spec) => {
    for (const from of spec.from) {
      const kind = spec.history.kind;
      if (held(spec.to) && !held(from)) expect(kind).toBe('open');
      if (!held(spec.to) && held(from)) expect(kind).toBe('close');
      if (kind === 'close') expect(held(spec.to)).toBe(false);
    }
  });

  it.each(moves)('%s keeps the live-feed index equal to the live work', (_move, spec) => {
    for (const from of spec.from) {
      const expected = live(from) === live(spec.to) ? ['keep'] : live(from) ? ['drop', 'handOver'] : ['add'];
      expect(expected).toContain(spec.liveFeeds);
    }
  });

  it.each(moves)('%s holds a lease exactly while the work is held', (_move, spec) => {
    if (held(spec.to)) expect(spec.lease).toBe('set');
    else if (spec.from.some(held)) expect(spec.lease).toBe('clear');
    expect(spec.attempt === 'next').toBe(spec.holder === 'pool' && spec.from.some((s) => !live(s) || held(s)));
  });
});
