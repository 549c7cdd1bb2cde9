import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';
import { CascadeError } from '../../src/errors/cascade-error.js';
import { FeedsStore } from '../../src/store/feeds.js';
import { databaseOf } from '../../src/store/store.js';

describeEachStore('FeedsStore', (dialect) => {
  let t: { store: Store };
  beforeAll(async () => {
    t = { store: await openTestStore(await dialect.createDatabase()) };
  });
  afterAll(async () => t?.store.close());

  it('creates with a given or generated id and refuses a duplicate with CONFLICT', async () => {
    const feeds = t.store.feeds;
    const given = await feeds.create({ id: 'MP_WXS_1', mp_name: 'One', url: 'http://x/1', sync_time: 1764235800 });
    expect(given).toMatchObject({
      id: 'MP_WXS_1',
      mp_name: 'One',
      status: 1,
      sync_time: 1764235800,
      update_time: null,
      article_count: 0,
    });
    const generated = await feeds.create({ mp_name: 'Two' });
    expect(generated.id).toMatch(/^feed_/);
    const duplicate = await feeds.create({ id: 'MP_WXS_1' }).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(CascadeError);
    expect((duplicate as CascadeError).code).toBe('CONFLICT');
    expect(feeds.view(await feeds.get('MP_WXS_1'))).toEqual(given);
  });

  it('searches mp_name case-insensitively, with %, _ and ! taken literally', async () => {
    const feeds = t.store.feeds;
    await feeds.create({ id: 'S1', mp_name: 'Tech Weekly' });
    await feeds.create({ id: 'S2', mp_name: '50% off_now!' });
    await feeds.create({ id: 'S3', mp_name: 'techno', status: 0 });
    const ids = async (search: string, status?: number) =>
      (await feeds.list({ search, status }, 50, 0)).list.map((f) => f.id).sort();
    expect(await ids('TECH')).toEqual(['S1', 'S3']);
    expect(await ids('tech', 1)).toEqual(['S1']);
    expect(await ids('0% o')).toEqual(['S2']);
    expect(await ids('f_n')).toEqual(['S2']);
    expect(await ids('w!')).toEqual(['S2']);
    expect(await ids('%')).toEqual(['S2']);
    expect(await ids('h_w')).toEqual([]);
  });

  it('pages with a stable order and a total', async () => {
    const all = await t.store.feeds.list({}, 200, 0);
    const second = await t.store.feeds.list({}, 2, 1);
    expect(second.total).toBe(all.total);
    expect(second.list).toEqual(all.list.slice(1, 3));
  });

  it('getMany returns the known feeds across several chunks and ignores unknown and repeated ids', async () => {
    const ids = Array.from({ length: 11 }, (_, i) => `BULK_${i}`);
    for (const id of ids) await t.store.feeds.create({ id });
    const smallChunks = new FeedsStore(databaseOf(t.store), 3);
    const rows = await smallChunks.getMany([...ids, 'GHOST', ids[0] ?? '', 'GHOST_2']);
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(await smallChunks.unknownIds(['GHOST', 'BULK_1', 'GHOST_2', 'GHOST'])).toEqual(['GHOST', 'GHOST_2']);
    expect(await t.store.feeds.getMany([])).toEqual([]);
  });

  it('updates only the given fields and removes', async () => {
    const feeds = t.store.feeds;
    const updated = await feeds.update('MP_WXS_1', { status: 0, update_time: 1764239400, sync_time: null });
    expect(updated).toMatchObject({
      mp_name: 'One',
      url: 'http://x/1',
      status: 0,
      update_time: 1764239400,
      sync_time: null,
    });
    expect(feeds.view(await feeds.get('MP_WXS_1'))).toEqual(updated);
    await feeds.remove('MP_WXS_1');
    await expect(feeds.get('MP_WXS_1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(feeds.remove('MP_WXS_1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(feeds.update('MP_WXS_1', { mp_name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
