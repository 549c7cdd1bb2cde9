import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';

describeEachStore('MessageTasksStore', (dialect) => {
  let t: { store: Store };
  beforeAll(async () => {
    t = { store: await openTestStore(await dialect.createDatabase()) };
    await t.store.feeds.create({ id: 'F1' });
    await t.store.feeds.create({ id: 'F2' });
  });
  afterAll(async () => t?.store.close());

  it('round-trips headers, cookies and mps_id with extra keys', async () => {
    const view = await t.store.tasks.create({
      name: 'digest',
      headers: { 'User-Agent': 'ua', 'X-Empty': '' },
      cookies: 'a=1; b=2',
      mps_id: [{ id: 'F1', mp_name: '一号', nested: { deep: true } }, { id: 'F2' }],
      cron_exp: ' 0 9 * * * ',
    });
    expect(view).toMatchObject({
      headers: { 'User-Agent': 'ua', 'X-Empty': '' },
      cookies: 'a=1; b=2',
      cron_exp: '0 9 * * *',
      status: 1,
    });
    const task = await t.store.tasks.get(view.id);
    expect(task.feedRefs).toEqual([{ id: 'F1', mp_name: '一号', nested: { deep: true } }, { id: 'F2' }]);
    expect(task.feedIds).toEqual(['F1', 'F2']);
    expect(t.store.tasks.view(task)).toEqual(view);
  });

  it('rejects bad cron and unknown feeds together, naming each unknown id, and stores nothing', async () => {
    const before = await t.store.tasks.list({}, 200, 0);
    const error = await t.store.tasks
      .create({ name: 'bad', cron_exp: '* * *', mps_id: [{ id: 'F1' }, { id: 'NOPE_1' }, { id: 'NOPE_2' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [
        { path: 'cron_exp', message: expect.stringContaining('5 fields') as string },
        { path: 'mps_id.1.id', message: "unknown feed id 'NOPE_1'" },
        { path: 'mps_id.2.id', message: "unknown feed id 'NOPE_2'" },
      ],
    });
    expect((error as Error).message).toMatch(/NOPE_1.*NOPE_2/);
    expect(await t.store.tasks.list({}, 200, 0)).toEqual(before);
  });

  it('lists enabled tasks for the dispatcher and filters by status', async () => {
    const off = await t.store.tasks.create({ name: 'off', status: 0 });
    const enabled = await t.store.tasks.listEnabled();
    expect(enabled.map((row) => row.name)).toEqual(['digest']);
    expect((await t.store.tasks.list({ status: 0 }, 50, 0)).rows.map((row) => row.id)).toEqual([off.id]);
    const updated = await t.store.tasks.update(off.id, { status: 1, mps_id: [{ id: 'F2' }] });
    expect(updated).toMatchObject({ name: 'off', status: 1, mps_id: [{ id: 'F2' }] });
    expect((await t.store.tasks.listEnabled()).map((row) => row.name)).toEqual(['digest', 'off']);
    await t.store.tasks.remove(off.id);
    await expect(t.store.tasks.get(off.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
