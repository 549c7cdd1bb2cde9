import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';

describeEachStore('UsersStore last-admin guard', (dialect) => {
  let t: { store: Store };
  beforeAll(async () => {
    t = { store: await openTestStore(await dialect.createDatabase()) };
  });
  afterAll(async () => t?.store.close());

  const addUser = (username: string, role: 'admin' | 'viewer') =>
    t.store.users.create({ username, passwordHash: 'scrypt$unused', role });

  it('refuses to delete, demote or disable the last active admin, and allows it once another exists', async () => {
    const only = await addUser('only-admin', 'admin');
    for (const change of [
      { remove: true } as const,
      { patch: { role: 'viewer' as const } },
      { patch: { isActive: false } },
    ]) {
      await expect(t.store.users.changeKeepingAnAdmin(only.id, change)).rejects.toMatchObject({ code: 'CONFLICT' });
    }
    expect(await t.store.users.countAdmins()).toBe(1);
    // Changing the password of the last admin is fine.
    expect(
      await t.store.users.changeKeepingAnAdmin(only.id, { patch: { passwordHash: 'scrypt$other' } }),
    ).toMatchObject({ role: 'admin', is_active: true });

    const second = await addUser('second-admin', 'admin');
    expect(await t.store.users.changeKeepingAnAdmin(only.id, { patch: { role: 'viewer' } })).toMatchObject({
      role: 'viewer',
    });
    await expect(t.store.users.changeKeepingAnAdmin(second.id, { remove: true })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(t.store.users.changeKeepingAnAdmin('no-such-user', { remove: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // A viewer can always go.
    expect(await t.store.users.changeKeepingAnAdmin(only.id, { remove: true })).toBeNull();
  });

  it('lets exactly one of two admins demoting each other at the same time win', async () => {
    const a = await addUser('race-a', 'admin');
    const b = await addUser('race-b', 'admin');
    // Leave only a and b as active admins.
    const others = (await t.store.users.list(200, 0)).list.filter(
      (u) => u.role === 'admin' && u.id !== a.id && u.id !== b.id,
    );
    for (const other of others) await t.store.users.changeKeepingAnAdmin(other.id, { patch: { role: 'viewer' } });
    expect(await t.store.users.countAdmins()).toBe(2);

    const outcomes = await Promise.allSettled([
      t.store.users.changeKeepingAnAdmin(a.id, { patch: { role: 'viewer' } }),
      t.store.users.changeKeepingAnAdmin(b.id, { patch: { isActive: false } }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(
      outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => (o as PromiseRejectedResult).reason as { code: string }),
    ).toMatchObject([{ code: 'CONFLICT' }]);
    expect(await t.store.users.countAdmins()).toBe(1);
  });
});
