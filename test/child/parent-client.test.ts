import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_RETRY, ParentClient, ParentUnreachable } from '../../src/child/parent-client.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('parent client', () => {
  it('names the address a redirecting parent points to, and treats it as unreachable so results stay queued', async () => {
    const server = createServer((_req, res) =>
      res.writeHead(301, { location: 'https://parent.example/api/v1/cascade/heartbeat' }).end('<html>moved</html>'),
    );
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const client = new ParentClient({
      urls: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`],
      apiKey: `CN${'a'.repeat(32)}`,
      apiSecret: `CS${'b'.repeat(32)}`,
      logger: pino({ level: 'silent' }),
    });
    const error = await client.request('POST', '/heartbeat', { body: {}, retry: NO_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParentUnreachable);
    expect((error as Error).message).toContain(
      'HTTP 301: the parent redirects to https://parent.example/api/v1/cascade/heartbeat; set cascade.parent_api_url',
    );
  });
});
