import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store, databaseOf } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { deliveryRows, taskWithHeldAllocation } from '../helpers/delivery-seed.js';

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function open(url: string, extra: Record<string, unknown> = {}): Promise<Store> {
  const store = await openStore(
    loadConfig({
      env: {},
      overrides: { 'database.url': url, 'delivery.batch_seconds': 60, 'delivery.max_articles': 5, ...extra },
    }),
  );
  stores.push(store);
  await store.migrate();
  return store;
}

describeEachStore('deliveries outbox', (dialect) => {
  it('new articles of one task within the batch window join one delivery; repeats and known articles add nothing', async () => {
    const store = await open(await dialect.createDatabase());
    const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
    await work.upload(work.articles(2));
    await work.upload(work.articles(3)); // two known, one new
    await work.upload(work.articles(3)); // a retried upload
    const rows = await deliveryRows(store, work.taskId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'pending', attempt: 0, article_count: 3 });
    expect(rows[0]?.articleIds).toEqual(
      work
        .articles(3)
        .map((a) => a.id)
        .sort(),
    );
    // Not due before the window closes.
    expect(Number(rows[0]?.available_at)).toBeGreaterThan(Date.now() + 50_000);
  });

  it('more than max_articles new articles go in following deliveries; a full one is due at once', async () => {
    const store = await open(await dialect.createDatabase());
    const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
    await work.upload(work.articles(3));
    await work.upload(work.articles(9, 3)); // fills the open one (2 more), then 5 (full), then 2
    const rows = await deliveryRows(store, work.taskId);
    expect(rows.map((r) => Number(r.article_count)).sort()).toEqual([2, 5, 5]);
    expect(new Set(rows.flatMap((r) => r.articleIds)).size).toBe(12);
    const full = rows.filter((r) => Number(r.article_count) === 5);
    for (const row of full) expect(Number(row.available_at)).toBeLessThanOrEqual(Date.now());
  });

  it('a task without a webhook, or disabled, gets no deliveries', async () => {
    const store = await open(await dialect.createDatabase());
    const work = await taskWithHeldAllocation(store, '');
    await work.upload(work.articles(2));
    expect(await deliveryRows(store, work.taskId)).toEqual([]);
  });

  it('a claimed delivery takes no more articles: later ones open a new batch', async () => {
    const store = await open(await dialect.createDatabase(), { 'delivery.batch_seconds': 0 });
    const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
    await work.upload(work.articles(2));
    const [claimed] = await store.deliveries.claim(10, 60_000, Date.now() + 1);
    expect(claimed?.articleCount).toBe(2);
    await work.upload(work.articles(3, 2));
    const rows = await deliveryRows(store, work.taskId);
    expect(rows.map((r) => [r.status, Number(r.article_count)])).toEqual([
      ['sending', 2],
      ['pending', 3],
    ]);
  });

  it.skipIf(dialect.variant.name === 'sqlite')(
    'concurrent duplicate uploads put each new article in exactly one delivery (not on SQLite, one writer at a time)',
    async () => {
      const store = await open(await dialect.createDatabase(), { 'delivery.max_articles': 500 });
      const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
      const list = work.articles(40);
      await Promise.all(Array.from({ length: 4 }, () => work.upload(list)));
      const rows = await deliveryRows(store, work.taskId);
      const ids = rows.flatMap((r) => r.articleIds);
      expect(ids.sort()).toEqual(list.map((a) => a.id).sort());
      expect(rows.reduce((n, r) => n + Number(r.article_count), 0)).toBe(40);
    },
  );

  it('two stores claiming at once never take the same delivery (SQLite: one store, as it serves one parent)', async () => {
    const url = await dialect.createDatabase();
    const store = await open(url, { 'delivery.max_articles': 1, 'delivery.batch_seconds': 0 });
    const other = dialect.variant.name === 'sqlite' ? store : await open(url);
    const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
    await work.upload(work.articles(60));
    const now = Date.now() + 1;
    const taken: string[] = [];
    await Promise.all(
      [store, other, store, other].map(async (s) => {
        for (;;) {
          const claimed = await s.deliveries.claim(3, 60_000, now);
          if (claimed.length === 0) {
            const left = await databaseOf(s)
              .selectFrom('deliveries')
              .select('id')
              .where('status', '=', 'pending')
              .execute();
            if (left.length === 0) return;
            continue;
          }
          taken.push(...claimed.map((d) => d.id));
        }
      }),
    );
    expect(taken).toHaveLength(60);
    expect(new Set(taken).size).toBe(60);
  });

  it('redeliver moves only delivered or failed deliveries, with attempts starting over', async () => {
    const store = await open(await dialect.createDatabase(), { 'delivery.batch_seconds': 0 });
    const work = await taskWithHeldAllocation(store, 'http://127.0.0.1:9/hook');
    await work.upload(work.articles(1));
    const [delivery] = await store.deliveries.claim(1, 60_000, Date.now() + 1);
    await expect(store.deliveries.redeliver(delivery!.id, Date.now())).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    expect(
      await store.deliveries.markFailed(delivery!, { statusCode: 400, response: 'bad', error: null }, Date.now()),
    ).toBe(true);
    const again = await store.deliveries.redeliver(delivery!.id, Date.now());
    expect(again).toMatchObject({ status: 'pending', attempt: 0, lastStatusCode: 400 });
  });
});
