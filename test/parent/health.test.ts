import { afterEach, describe, expect, it } from 'vitest';
import { capturedLogs, startTestParent, type TestParent } from '../helpers/parent.js';

let parent: TestParent | undefined;
afterEach(async () => {
  await parent?.close();
  parent = undefined;
});

describe('health probes', () => {
  it('/readyz answers 200 once the parent is started and 503 from the moment shutdown begins', async () => {
    parent = await startTestParent();
    const ready = await fetch(`${parent.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    parent.parent.services.readiness.markStopping();
    const stopping = await fetch(`${parent.url}/readyz`);
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toEqual({ status: 'stopping' });
    // Liveness is not readiness: the process still answers.
    expect((await fetch(`${parent.url}/healthz`)).status).toBe(200);
  });

  it('probes leave no access line at log level info (they would drown the sweeper), but do at debug', async () => {
    parent = await startTestParent();
    const before = capturedLogs.length;
    await fetch(`${parent.url}/healthz`);
    await fetch(`${parent.url}/readyz`);
    expect(capturedLogs.slice(before).filter((line) => /"url":"\/(healthz|readyz)"/.test(line))).toEqual([]);
    await parent.close();
    parent = await startTestParent({ overrides: { log_level: 'debug' } });
    const debugBefore = capturedLogs.length;
    await fetch(`${parent.url}/healthz`);
    expect(capturedLogs.slice(debugBefore).filter((line) => line.includes('"url":"/healthz"')).length).toBeGreaterThan(
      0,
    );
  });
});
