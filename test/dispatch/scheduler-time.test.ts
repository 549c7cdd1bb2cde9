import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { scheduledTime } from '../../src/dispatch/scheduler.js';

describe('scheduledTime', () => {
  const tick = Date.UTC(2030, 0, 1, 12, 0, 0);

  it.each([
    ['on time', '* * * * *', 3, tick],
    ['6 s late on a minute cron', '* * * * *', 6_000, tick],
    ['50 s late on a minute cron', '* * * * *', 50_000, tick],
    ['20 min late on an hourly cron', '0 * * * *', 20 * 60_000, tick],
    ['on time on a per-second cron', '* * * * * *', 400, tick],
  ])('%s keys the trigger by its scheduled tick', (_name, pattern, lateMs, expected) => {
    const job = new Cron(pattern, { paused: true, timezone: 'Etc/UTC' });
    try {
      expect(scheduledTime(job, tick + lateMs)).toBe(expected);
    } finally {
      job.stop();
    }
  });
});
