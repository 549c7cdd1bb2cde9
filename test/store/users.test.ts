import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';

describeEachStore('users store', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase());
  });
  afterAll(async () => store?.close());

  it('creates users, refuses a duplicate name and lists them by name with a numeric total', async () => {
    await store.users.create({ username: 'zed', passwordHash: 'h1', role: 'viewer' });
    await store.users.create({ username: 'amy', passwordHash: 'h2', role: 'admin' });
    await expect(store.users.create({ username: 'amy', passwordHash: 'h3', role: 'viewer' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const { list, total } = await store.users.list(10, 0);
    expect(total).toBe(2);
    expect(list.map((u) => u.username)).toEqual(['amy', 'zed']);
    expect(list[0]).toMatchObject({ role: 'admin', is_active: true });
    expect(list[0]?.created_at).toMatch(/Z$/);
  });

  it('counts active admins as a number and follows updates', async () => {
    expect(await store.users.countAdmins()).toBe(1);
    const zed = await store.users.findByUsername('zed');
    if (!zed) throw new Error('zed was created above');
    await store.users.update(zed.id, { role: 'admin' });
    expect(await store.users.countAdmins()).toBe(2);
    await store.users.update(zed.id, { isActive: false });
    expect(await store.users.countAdmins()).toBe(1);
    expect((await store.users.get(zed.id)).isActive).toBe(false);
  });

  it('removes a user once; a second removal is NOT_FOUND', async () => {
    const amy = await store.users.findByUsername('amy');
    if (!amy) throw new Error('amy was created above');
    await store.users.remove(amy.id);
    await expect(store.users.remove(amy.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.users.findByUsername('amy')).toBeUndefined();
  });
});
