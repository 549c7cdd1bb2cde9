import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

type Pkg = { allocation_id: string; task_id: string; feeds: Array<{ id: string }> };
type View = Record<string, unknown> & {
  status: string;
  node_name: string | null;
  started_at: string;
  lease_expires_at: string | null;
  attempts?: unknown;
};

/**
 * task-status and report-completion answer with the row the move returned instead of re-reading it; the answer
 * must equal what the store then holds (the admin view of the same allocation, without its attempt history).
 */
describe('child move answers match the stored allocation', () => {
  let t: TestParent;
  let node: { id: string; api_key: string; api_secret: string };
  let pkg: Pkg;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'dispatch.lease_seconds': 300 } });
    const feeds = await seedFeeds(t.parent.services.store, 1);
    await seedTask(t.parent.services.store, feeds);
    node = await t.addChild('answerer');
    await api(t.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    await api(t.url, '/api/v1/cascade/dispatch-task', { method: 'POST', token: t.adminToken });
    pkg = (await api<Pkg>(t.url, '/api/v1/cascade/claim-task', { method: 'POST', aksk: node })).body.data;
  });
  afterAll(async () => t.close());

  const stored = async (): Promise<View> => {
    const { attempts: _attempts, ...view } = (
      await api<View>(t.url, `/api/v1/cascade/allocations/${pkg.allocation_id}`, { token: t.adminToken })
    ).body.data;
    return view as View;
  };

  it('executing: the answer is the stored row, and the lease runs lease_seconds from the start', async () => {
    const answer = await api<View>(t.url, '/api/v1/cascade/task-status', {
      method: 'PUT',
      aksk: node,
      json: { allocation_id: pkg.allocation_id, status: 'executing' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ status: 'executing', node_name: 'answerer' });
    expect(answer.body.data).toEqual(await stored());
    expect(Date.parse(answer.body.data.lease_expires_at as string) - Date.parse(answer.body.data.started_at)).toBe(
      300_000,
    );
  });

  it('completion: the answer is the stored row; a repeat answers the same row', async () => {
    const body = {
      allocation_id: pkg.allocation_id,
      task_id: pkg.task_id,
      results: [{ mp_id: pkg.feeds[0]?.id, status: 'success', article_count: 0 }],
    };
    const answer = await api<View>(t.url, '/api/v1/cascade/report-completion', { aksk: node, json: body });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ status: 'completed', node_name: 'answerer', lease_expires_at: null });
    expect(answer.body.data).toEqual(await stored());
    const repeat = await api<View>(t.url, '/api/v1/cascade/report-completion', { aksk: node, json: body });
    expect(repeat.body.data).toEqual(answer.body.data);
  });
});
