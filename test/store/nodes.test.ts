import { afterAll, beforeAll, expect, it } from 'vitest';
import { CascadeError } from '../../src/errors/cascade-error.js';
import { databaseOf, type Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';

describeEachStore('nodes store', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase(), { 'dispatch.offline_after_seconds': 60 });
  });
  afterAll(async () => store?.close());

  it('creates a child with credentials and reads back numbers, not strings', async () => {
    const { node, credentials } = await store.nodes.create({
      node_type: 1,
      name: 'child-a',
      sync_config: { max_capacity: 7, feed_quota: { f1: 2 } },
    });
    expect(credentials?.api_secret).toMatch(/^CS/);
    // The driver hands BIGINT times back as numbers on every dialect (the row, not the record, shows it).
    const row = await databaseOf(store)
      .selectFrom('nodes')
      .selectAll()
      .where('id', '=', node.id)
      .executeTakeFirstOrThrow();
    expect(typeof row.created_at).toBe('number');
    expect(row.created_at).toBeGreaterThan(1_600_000_000_000);
    expect(row.max_capacity).toBe(7);
    const record = await store.nodes.get(node.id);
    expect(record.maxCapacity).toBe(7);
    expect(store.nodes.view(record).sync_config).toEqual({ max_capacity: 7, feed_quota: { f1: 2 } });
    expect(JSON.stringify(store.nodes.view(record))).not.toContain(credentials?.api_secret ?? 'missing');
  });

  it('rejects a duplicate name with CONFLICT and keeps names case-sensitive', async () => {
    await expect(store.nodes.create({ node_type: 1, name: 'child-a' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const upper = await store.nodes.create({ node_type: 1, name: 'CHILD-A' });
    expect(upper.node.name).toBe('CHILD-A');
  });

  it('authenticates only the right secret of an active node', async () => {
    const { node, credentials } = await store.nodes.create({ node_type: 1, name: 'child-auth' });
    if (!credentials) throw new Error('a child must get credentials');
    expect((await store.nodes.authenticate(credentials.api_key, credentials.api_secret))?.id).toBe(node.id);
    // Change the last character to one it is not (a random secret ends in 'x' one time in 64).
    const wrong = `${credentials.api_secret.slice(0, -1)}${credentials.api_secret.endsWith('x') ? 'y' : 'x'}`;
    expect(await store.nodes.authenticate(credentials.api_key, wrong)).toBeUndefined();
    const rotated = await store.nodes.rotateCredentials(node.id);
    expect(await store.nodes.authenticate(credentials.api_key, credentials.api_secret)).toBeUndefined();
    expect((await store.nodes.authenticate(rotated.credentials.api_key, rotated.credentials.api_secret))?.id).toBe(
      node.id,
    );
    await store.nodes.update(node.id, { is_active: false });
    expect(await store.nodes.authenticate(rotated.credentials.api_key, rotated.credentials.api_secret)).toBeUndefined();
  });

  it('filters online, offline and disabled nodes by heartbeat time and counts them as numbers', async () => {
    const online = await store.nodes.create({ node_type: 1, name: 'hb-online' });
    const stale = await store.nodes.create({ node_type: 1, name: 'hb-stale' });
    const now = Date.now();
    await store.nodes.recordHeartbeat(online.node.id, { current_tasks: 3, version: '1.2.3', hostname: 'h1' }, now);
    await store.nodes.recordHeartbeat(stale.node.id, {}, now - 61_000);
    const onlineList = await store.nodes.list({ status: 1 }, 100, 0);
    expect(onlineList.list.map((n) => n.name)).toEqual(['hb-online']);
    expect(onlineList.total).toBe(1);
    const offline = await store.nodes.list({ status: 0 }, 100, 0);
    expect(offline.list.map((n) => n.name)).toContain('hb-stale');
    expect(offline.list.map((n) => n.name)).not.toContain('hb-online');
    const disabled = await store.nodes.list({ status: 2 }, 100, 0);
    expect(disabled.list.map((n) => n.name)).toEqual(['child-auth']);
    const record = await store.nodes.get(online.node.id);
    expect(record.lastHeartbeatAtMs).toBe(now);
    expect(store.nodes.view(record)).toMatchObject({
      reported_tasks: 3,
      version: '1.2.3',
      hostname: 'h1',
      status: 1,
      last_heartbeat_at: new Date(now).toISOString(),
    });
  });

  it('pages in creation order with a numeric total', async () => {
    const all = await store.nodes.list({}, 1000, 0);
    const page = await store.nodes.list({}, 2, 1);
    expect(typeof page.total).toBe('number');
    expect(page.total).toBe(all.total);
    expect(page.list.map((n) => n.id)).toEqual(all.list.slice(1, 3).map((n) => n.id));
  });

  it('resolves by id or name and reports an unknown one as NOT_FOUND', async () => {
    const { node } = await store.nodes.create({ node_type: 0, name: 'parent-self' });
    expect((await store.nodes.resolve('parent-self')).id).toBe(node.id);
    expect((await store.nodes.resolve(node.id)).name).toBe('parent-self');
    const error = await store.nodes.resolve('nobody').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CascadeError);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
  });
});
