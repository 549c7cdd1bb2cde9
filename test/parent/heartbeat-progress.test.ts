import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { OriginalChildClient, pythonTimestamp } from '../helpers/original-child.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { snapshot } from '../helpers/seed.js';

type View = {
  id: string;
  status: string;
  attempt: number;
  stalled: boolean;
  progress: { feeds_done: number; bytes_read: number } | null;
  attempts: Array<{ outcome: string | null }>;
};
type Pkg = { allocation_id: string };

/**
 * Issue #17 item 4 on the wire: `progress` in a heartbeat is optional. A Cascade child sends it and its work is
 * judged for stalls; the original child's heartbeat (empty, or without the field) keeps working as before and its
 * work is never flagged, however long it runs while the node beats.
 */
describeEachStore('heartbeat progress', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({
      databaseUrl: await dialect.createDatabase(),
      overrides: { 'dispatch.stall_seconds': 1, 'dispatch.retry_backoff_seconds': 0 },
    });
  });
  afterAll(async () => t?.close());

  const view = async (id: string) =>
    (await api<View>(t.url, `/api/v1/cascade/allocations/${id}`, { token: t.adminToken })).body.data;

  it('progress is optional: stored when sent, refused with 400 when malformed, and only work that reports it is judged', async () => {
    const feeds = ['MP_PROGRESS_ORIGINAL', 'MP_PROGRESS_CASCADE'];
    for (const id of feeds)
      await api(t.url, '/api/v1/feeds', {
        token: t.adminToken,
        json: { id, mp_name: id, url: `http://127.0.0.1:9/${id}` },
      });
    const original = new OriginalChildClient(
      t.url,
      '/api/v1/wx/cascade',
      await t.addChild('original', { feed_quota: { [feeds[0]!]: 1 } }),
    );
    const cascade = new OriginalChildClient(
      t.url,
      '/api/v1/cascade',
      await t.addChild('cascade', { feed_quota: { [feeds[1]!]: 1 } }),
    );
    await original.send('POST', '/heartbeat');
    await cascade.send('POST', '/heartbeat', { heartbeat_interval_s: 1 });
    const task = await api<{ id: string }>(t.url, '/api/v1/message-tasks', {
      token: t.adminToken,
      json: { name: 'progress', mps_id: feeds.map((id) => ({ id })) },
    });
    await api(t.url, `/api/v1/cascade/dispatch-task?task_id=${task.body.data.id}`, {
      method: 'POST',
      token: t.adminToken,
    });
    const run = async (child: OriginalChildClient) => {
      const pkg = (await child.send<Pkg>('POST', '/claim-task')).body.data;
      expect(
        (
          await child.send('PUT', '/task-status', {
            allocation_id: pkg.allocation_id,
            status: 'executing',
            error_message: null,
            timestamp: pythonTimestamp(),
          })
        ).status,
      ).toBe(200);
      return pkg.allocation_id;
    };
    const [quiet, reporting] = [await run(original), await run(cascade)];

    // The original child's heartbeat, as it sends it: empty, then with its fields and nulls. Leases renewed.
    expect(await original.send('POST', '/heartbeat')).toMatchObject({
      status: 200,
      body: { data: { leases_extended: 1 } },
    });
    expect(
      (
        await original.send('POST', '/heartbeat', {
          callback_url: null,
          current_tasks: 1,
          timestamp: pythonTimestamp(),
        })
      ).status,
    ).toBe(200);

    const beat = (progress: unknown) =>
      cascade.send('POST', '/heartbeat', {
        held_allocation_ids: [reporting],
        heartbeat_interval_s: 1,
        progress,
        timestamp: pythonTimestamp(),
      });
    expect((await beat([{ allocation_id: reporting, feeds_done: 0, bytes_read: 0 }])).status).toBe(200);
    expect((await view(reporting)).progress).toEqual({
      feeds_done: 0,
      bytes_read: 0,
      last_progress_at: expect.any(String),
    });

    const before = await snapshot(t.parent.services.store);
    for (const bad of [
      [{ allocation_id: reporting, feeds_done: 0, bytes_read: -1 }],
      [{ allocation_id: reporting, feeds_done: 'a lot', bytes_read: 0 }],
      [{ allocation_id: reporting }],
      'progress',
    ]) {
      const refused = await beat(bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
    }
    expect(await snapshot(t.parent.services.store)).toEqual(before);

    // One period later both still run and both nodes beat: only the reporting allocation is flagged.
    const { sweeper } = t.parent.services;
    await sweeper.sweepOnce(Date.now() + 1500);
    expect(await view(reporting)).toMatchObject({ status: 'executing', stalled: true });
    expect(await view(quiet)).toMatchObject({ status: 'executing', stalled: false, progress: null });

    // Bytes arrived: the flag is lifted. Then two periods without progress: requeued, with the reason on record.
    expect((await beat([{ allocation_id: reporting, feeds_done: 0, bytes_read: 512 }])).status).toBe(200);
    expect(await view(reporting)).toMatchObject({ stalled: false, progress: { bytes_read: 512 } });
    await sweeper.sweepOnce(Date.now() + 2500);
    expect(await view(reporting)).toMatchObject({ status: 'pending', attempt: 2, attempts: [{ outcome: 'stalled' }] });
    expect(await view(quiet)).toMatchObject({ status: 'executing', attempt: 1, stalled: false });
  });
});
