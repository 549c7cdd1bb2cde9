import { afterEach, expect, it } from 'vitest';
import { listAllocations } from '../../src/services/allocation-list.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

type Listed = { list: Array<{ id: string; node_id: string | null; node_name: string | null }>; total: number };

const parents: TestParent[] = [];
afterEach(async () => {
  await Promise.all(parents.splice(0).map((p) => p.close()));
});

/** Three single-feed allocations: two pre-assigned to node `a` (capacity 2), one unassigned; node `b` holds none. */
async function scene(databaseUrl: string) {
  const t = await startTestParent({ databaseUrl, overrides: { 'dispatch.feeds_per_allocation': 1 } });
  parents.push(t);
  const a = await t.addChild('a', { max_capacity: 2 });
  const b = await t.addChild('b', { max_capacity: 2 });
  await api(t.url, '/api/v1/cascade/heartbeat', { method: 'POST', aksk: a, json: {} });
  const task = await seedTask(t.parent.services.store, await seedFeeds(t.parent.services.store, 3, 'LIST_'));
  const dispatched = await api<{ feeds_assigned: number }>(t.url, `/api/v1/cascade/dispatch-task?task_id=${task}`, {
    method: 'POST',
    token: t.adminToken,
  });
  expect(dispatched.body.data.feeds_assigned).toBe(2);
  const list = async (query: string) => {
    const answer = await api<Listed>(t.url, `/api/v1/cascade/allocations?${query}`, { token: t.adminToken });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.data;
  };
  return { t, a, b, list };
}

describeEachStore('the /allocations node filter (one rule for the API and the CLI)', (dialect) => {
  it('node_name takes a node’s id or name; an unknown node, or one node_id contradicts, matches nothing', async () => {
    const { t, a, b, list } = await scene(await dialect.createDatabase());
    const byName = await list('node_name=a');
    expect(byName.total).toBe(2);
    expect(byName.list.every((row) => row.node_id === a.id && row.node_name === 'a')).toBe(true);
    expect((await list(`node_name=${a.id}`)).list.map((r) => r.id).sort()).toEqual(byName.list.map((r) => r.id).sort());
    expect(await list(`node_name=a&node_id=${a.id}`)).toMatchObject({ total: 2 });
    // A node that holds nothing, one that does not exist, and one node_id contradicts: an empty page, not an error.
    expect(await list('node_name=b')).toEqual(expect.objectContaining({ list: [], total: 0 }));
    expect(await list('node_name=nobody')).toEqual(expect.objectContaining({ list: [], total: 0 }));
    expect(await list(`node_name=a&node_id=${b.id}`)).toEqual(expect.objectContaining({ list: [], total: 0 }));
    expect((await list('')).total).toBe(3);

    // The service the route calls answers the same, so the CLI (which asks the API) cannot differ.
    const { store } = t.parent.services;
    expect((await listAllocations(store, { node_name: 'a' }, 50, 0)).total).toBe(2);
    expect(await listAllocations(store, { node_name: 'nobody' }, 50, 0)).toEqual({ list: [], total: 0 });
    expect(await listAllocations(store, { node_name: 'a', node_id: b.id }, 50, 0)).toEqual({ list: [], total: 0 });
  });
});
