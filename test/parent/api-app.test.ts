import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { buildApiApp } from '../../src/parent/api-app.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';

/** The CLI's in-process app (cli/api-local.ts) and the listening parent run the same routes over the same services. */
describe('buildApiApp, the API the CLI runs on the local store', () => {
  let t: TestParent;
  let taskId: string;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false } });
    taskId = await seedTask(t.parent.services.store, await seedFeeds(t.parent.services.store, 1, 'MP_TRIGGER_'));
  });
  afterAll(async () => t?.close());

  const dispatches = async (trigger: string): Promise<number> =>
    (await t.parent.services.metrics.dispatches.get()).values.find((v) => v.labels.trigger === trigger)?.value ?? 0;

  it('records a dispatch through it as trigger cli, and one over HTTP as trigger api', async () => {
    const app = await buildApiApp({ services: t.parent.services, logger: createLogger('silent') });
    try {
      const local = await app.inject({
        method: 'POST',
        url: `/api/v1/cascade/dispatch-task?task_id=${taskId}`,
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(local.statusCode, local.body).toBe(200);
    } finally {
      await app.close();
    }
    expect(await dispatches('cli')).toBe(1);
    expect(await dispatches('api')).toBe(0);
    const remote = await api(t.url, `/api/v1/cascade/dispatch-task?task_id=${taskId}`, {
      method: 'POST',
      token: t.adminToken,
    });
    expect(remote.status).toBe(200);
    expect(await dispatches('api')).toBe(1);
    expect(await dispatches('cli')).toBe(1);
  });
});
