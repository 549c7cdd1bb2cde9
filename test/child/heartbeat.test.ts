import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Heartbeat } from '../../src/child/heartbeat.js';
import { ParentClient } from '../../src/child/parent-client.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

let parent: TestParent | undefined;
let proxy: TcpProxy | undefined;
let heartbeat: Heartbeat | undefined;
afterEach(async () => {
  heartbeat?.stop();
  await proxy?.close();
  await parent?.close();
});

describe('child heartbeat while the parent is unreachable', () => {
  it('backs off, says once that the parent is unreachable and once that it is back, then reports its outbox depth', async () => {
    parent = await startTestParent();
    const node = await parent.addChild('patient');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(parent.url).port) });
    proxy.setRefusing(true);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
    );
    const client = new ParentClient({
      urls: [`http://127.0.0.1:${proxy.port}`],
      apiKey: node.api_key,
      apiSecret: node.api_secret,
      logger,
    });
    const intervalMs = 20;
    heartbeat = new Heartbeat({
      client,
      logger,
      intervalMs,
      version: 'test',
      currentTasks: () => 0,
      outboxDepth: () => 7,
      heldAllocationIds: () => [],
      onAlive: () => undefined,
    });
    heartbeat.start();

    const missed = () => lines.filter((l) => l.msg === 'heartbeat failed').length;
    await waitFor('five missed heartbeats', () => (missed() >= 5 ? true : undefined));
    // Equal-jitter backoff: after n misses the pause is at least half of interval·2ⁿ, growing instead of every 20 ms.
    expect(heartbeat.nextDelayMs()).toBeGreaterThanOrEqual((intervalMs * 2 ** 5) / 2);
    expect(
      lines.filter((l) => l.msg === 'heartbeat failed').every((l) => l.level === 20),
      'each miss only at debug',
    ).toBe(true);
    const unreachable = lines.filter((l) => l.msg.startsWith('parent unreachable'));
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]?.level).toBe(50);

    proxy.setRefusing(false);
    await waitFor('the parent back', () => (lines.some((l) => l.msg === 'parent reachable again') ? true : undefined));
    const view = await api<{ outbox_depth: number | null }>(parent.url, `/api/v1/cascade/nodes/${node.id}`, {
      token: parent.adminToken,
    });
    expect(view.body.data.outbox_depth).toBe(7);
    await waitFor('the regular interval back', () => (heartbeat?.nextDelayMs() === intervalMs ? true : undefined));
    expect(lines.filter((l) => l.msg.startsWith('parent unreachable'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'parent reachable again')).toHaveLength(1);
  });
});
