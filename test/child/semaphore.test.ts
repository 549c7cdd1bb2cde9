import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/child/semaphore.js';

/** Starts `count` tasks that each hold their slot until released; reports how many run at once. */
function occupy(semaphore: Semaphore, count: number) {
  let running = 0;
  const releases: Array<() => void> = [];
  const done = Array.from({ length: count }, () =>
    semaphore.run(async () => {
      running++;
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
    }),
  );
  return { running: () => running, releaseAll: () => releases.splice(0).forEach((r) => r()), done: Promise.all(done) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('semaphore', () => {
  it('starts waiting tasks at once when the limit grows, and holds new ones back when it shrinks', async () => {
    const semaphore = new Semaphore(2);
    const tasks = occupy(semaphore, 6);
    await settle();
    expect(tasks.running()).toBe(2);
    semaphore.resize(5);
    await settle();
    expect(tasks.running()).toBe(5);
    semaphore.resize(1);
    tasks.releaseAll();
    await settle();
    expect(tasks.running()).toBe(1); // the last waiting task starts; no more than the new limit
    tasks.releaseAll();
    await tasks.done;
    expect(tasks.running()).toBe(0);
  });
});
