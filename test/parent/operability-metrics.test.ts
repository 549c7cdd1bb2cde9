import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.js';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { databaseOf } from '../../src/store/store.js';

type Pkg = { allocation_id: string; attempt: number };

/** Every sample of one metric, as `{labels} value` text lines. */
async function samples(url: string, name: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('operability: what the parent tells about stuck work, refused reports and child outboxes', () => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'dispatch.lease_seconds': 300 } });
    await seedTask(t.parent.services.store, await seedFeeds(t.parent.services.store, 1));
    node = await t.addChild('ops');
  });
  afterAll(async () => t.close());

  it('a child that sends outbox_depth shows it in its node record and a per-node gauge; the original empty heartbeat still works', async () => {
    expect((await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, method: 'POST' })).status).toBe(200);
    const before = await api<{ outbox_depth: number | null }>(t.url, `/api/v1/cascade/nodes/${node.id}`, {
      token: t.adminToken,
    });
    expect(before.body.data.outbox_depth).toBeNull();
    expect(
      (await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: { current_tasks: 0, outbox_depth: 3 } }))
        .status,
    ).toBe(200);
    const after = await api<{ outbox_depth: number | null }>(t.url, `/api/v1/cascade/nodes/${node.id}`, {
      token: t.adminToken,
    });
    expect(after.body.data.outbox_depth).toBe(3);
    const listed = await api<{ list: Array<{ id: string; outbox_depth: number | null }> }>(
      t.url,
      '/api/v1/cascade/nodes',
      { token: t.adminToken },
    );
    expect(listed.body.data.list.find((n) => n.id === node.id)?.outbox_depth).toBe(3);
    expect(await samples(t.url, 'cascade_node_outbox_depth')).toEqual([
      `cascade_node_outbox_depth{node_id="${node.id}",node="ops"} 3`,
    ]);
    expect(
      (await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: { outbox_depth: -1 } })).status,
      'a negative depth is bad input',
    ).toBe(400);
  });

  it('counts allocations claimed long ago and never started', async () => {
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    const pkg = (await api<Pkg>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: node })).body.data;
    expect(pkg.allocation_id).toBeTruthy();
    expect(await samples(t.url, 'cascade_allocations_claimed_unstarted')).toEqual([
      'cascade_allocations_claimed_unstarted 0',
    ]);
    // The claim answer "got lost": the row stays claimed; a minute later it is counted.
    await databaseOf(t.parent.services.store)
      .updateTable('allocations')
      .set({ claimed_at: Date.now() - 60_000 })
      .where('id', '=', pkg.allocation_id)
      .execute();
    expect(await samples(t.url, 'cascade_allocations_claimed_unstarted')).toEqual([
      'cascade_allocations_claimed_unstarted 1',
    ]);
  });

  it('a late report the node no longer holds is refused, counted by route and logged at warn with node and allocation', async () => {
    const [row] = await databaseOf(t.parent.services.store)
      .selectFrom('allocations')
      .select(['id', 'attempt'])
      .where('status', '=', 'claimed')
      .execute();
    expect(row).toBeDefined();
    const before = capturedLogs.length;
    const late = await api(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: { allocation_id: row?.id, attempt: Number(row?.attempt) + 1, status: 'executing' },
    });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('LEASE_LOST');
    expect(await samples(t.url, 'cascade_refused_reports_total')).toEqual([
      'cascade_refused_reports_total{route="/api/v1/cascade/task-status",code="LEASE_LOST"} 1',
    ]);
    const warned = capturedLogs
      .slice(before)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.msg === 'refused a late report from a child');
    expect(warned).toEqual([
      expect.objectContaining({ level: 40, node_id: node.id, node: 'ops', allocation_id: row?.id, code: 'LEASE_LOST' }),
    ]);
  });
});
