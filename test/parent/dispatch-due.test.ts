import { afterEach, expect, it } from 'vitest';
import { databaseOf } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

const parents: TestParent[] = [];
afterEach(async () => {
  await Promise.all(parents.splice(0).map((p) => p.close()));
});

type Summary = {
  allocations_created: number;
  feeds_skipped_not_due: number;
  next_due_at: string | null;
  not_due: Array<{ task_id: string; feed_id: string; next_due_at: string }>;
  forced: boolean;
};
type Feed = {
  id: string;
  next_due_at: string | null;
  refresh_interval_seconds: number | null;
  refresh_failures: number;
  refresh_hint_seconds: number | null;
};

/** The dispatch API and the feed API with "fetch only what is due" (docs/refresh.md). */
describeEachStore('dispatch of due feeds over the API', (dialect) => {
  it('answers 200 with nothing dispatched and explains why, refuses a bad force with 400, and dispatches everything with force=true', async () => {
    const t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
    parents.push(t);
    const store = t.parent.services.store;
    const [later, due] = (await seedFeeds(store, 2, 'API_DUE_')) as [string, string];
    const task = await seedTask(store, [later]);
    const inAnHour = Date.now() + 3_600_000;
    // As a completion would have learned it (src/store/feed-rhythm.ts).
    await databaseOf(store)
      .updateTable('feeds')
      .set({ next_due_at: inAnHour, refresh_interval_seconds: 3600, refresh_hint_seconds: 1800 })
      .where('id', '=', later)
      .execute();

    const shown = await api<Feed>(t.url, `/api/v1/feeds/${later}`, { token: t.adminToken });
    expect(shown.body.data).toMatchObject({
      next_due_at: new Date(inAnHour).toISOString(),
      refresh_interval_seconds: 3600,
      refresh_failures: 0,
      refresh_hint_seconds: 1800,
    });
    const listed = await api<{ list: Feed[] }>(t.url, '/api/v1/feeds', { token: t.adminToken });
    expect(listed.body.data.list.find((f) => f.id === due)).toMatchObject({
      next_due_at: null,
      refresh_interval_seconds: null,
    });

    const skipped = await api<Summary>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task}`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(skipped.status).toBe(200);
    expect(skipped.body.data).toMatchObject({
      allocations_created: 0,
      feeds_skipped_not_due: 1,
      forced: false,
      next_due_at: new Date(inAnHour).toISOString(),
    });
    expect(skipped.body.data.not_due).toEqual([
      { task_id: task, feed_id: later, next_due_at: new Date(inAnHour).toISOString() },
    ]);
    expect(skipped.body.message).toMatch(/^Nothing dispatched: 1 feed\(s\) not due yet .*force=true/);

    for (const bad of ['maybe', '2', '']) {
      const refused = await api<Summary>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task}&force=${bad}`, {
        method: 'POST',
        token: t.adminToken,
      });
      expect(refused.status, bad).toBe(400);
    }
    const viewer = await api(t.url, `/api/v1/cascade/dispatch-task?force=true`, { method: 'POST' });
    expect(viewer.status).toBe(401);
    expect(
      Number(
        (
          await databaseOf(store)
            .selectFrom('allocations')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(0);

    const forced = await api<Summary>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task}&force=true`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(forced.status).toBe(200);
    expect(forced.body.data).toMatchObject({
      allocations_created: 1,
      feeds_skipped_not_due: 0,
      forced: true,
      not_due: [],
      next_due_at: null,
    });
  });
});
