import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { Scheduler } from '../../src/dispatch/scheduler.js';
import { createLogger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../helpers/store.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'cascade-scheduler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The store as the scheduler sees it while the database drops its connections: the task reads fail (as
 * `read ECONNRESET` did in the chaos run, during a parent's start) until `heal()`.
 */
function faultyTasks(store: Store) {
  let failing = true;
  let refused = 0;
  const tasks = new Proxy(store.tasks, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (failing && (prop === 'changeMark' || prop === 'listEnabled')) {
          refused += 1;
          return Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const faulty = new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'tasks' ? tasks : Reflect.get(target, prop, receiver)),
  });
  return {
    store: faulty,
    refused: () => refused,
    heal() {
      failing = false;
    },
  };
}

it('starts while the database refuses its first task reads, and schedules the tasks once it answers', async () => {
  const store = await openTestStore(`sqlite:${join(dir, 'cascade.db')}`);
  try {
    await store.feeds.create({ id: 'FEED_A', mp_name: 'a', url: 'http://127.0.0.1:9/a.xml' });
    const task = await store.tasks.create({ name: 'hourly', mps_id: [{ id: 'FEED_A' }], cron_exp: '0 * * * *' });
    const config = loadConfig({ env: {}, overrides: { 'database.url': 'sqlite::memory:' } });
    const faults = faultyTasks(store);
    const scheduler = new Scheduler(
      faults.store,
      new Dispatcher(faults.store, config.dispatch),
      createLogger('silent'),
      'UTC',
    );

    // Before the fix, start() threw here and the parent's start failed with its timers and port left behind.
    const started = await scheduler.start();
    expect(started).toMatchObject({ running: true, jobs: [] });
    expect(faults.refused()).toBeGreaterThan(0);

    faults.heal();
    const state = await waitFor('the task scheduled after the database answers', () => {
      const now = scheduler.state();
      return now.jobs.length > 0 ? now : undefined;
    });
    expect(state.jobs).toMatchObject([{ task_id: task.id, cron_exp: '0 * * * *' }]);
    await scheduler.stop();
  } finally {
    await store.close();
  }
});
