import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, TSX_NODE_ARGS } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cascade-child-modules-'));
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Preloaded into the child: records every module URL it resolves and, at exit, whether undici (`fetch`) was initialised. */
const RECORDER = `
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
const log = process.env.MODULE_LOG;
register('data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs';
  export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    appendFileSync(\${JSON.stringify(log)}, resolved.url + '\\\\n');
    return resolved;
  }\`));
process.on('exit', () => appendFileSync(log, process.moduleLoadList.filter((m) => m.includes('undici')).join('\\n') + '\\n'));
`;

/** Just enough of a parent for an idle child: heartbeats answered, claims answered "no work"; says when a claim arrived. */
async function idleParent(): Promise<{ url: string; claimed: Promise<void> }> {
  let claimed!: () => void;
  const firstClaim = new Promise<void>((resolve) => (claimed = resolve));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const data = req.url?.includes('/heartbeat')
        ? {
            status: 'ok',
            node_id: 'n1',
            server_time: new Date().toISOString(),
            offline_after_s: 180,
            leases_extended: 0,
          }
        : null;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, message: 'ok', data }));
      if (req.url?.includes('/claim-task')) claimed();
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, claimed: firstClaim };
}

describe('cascade child waiting for work', () => {
  it('has not loaded the feed parser, the schema builder, the Ajv compiler or undici', async () => {
    const parent = await idleParent();
    const recorder = join(dir, 'recorder.mjs');
    const log = join(dir, 'modules.log');
    writeFileSync(recorder, RECORDER);
    writeFileSync(log, '');
    const child = spawn(
      process.execPath,
      [...TSX_NODE_ARGS, '--import', pathToFileURL(recorder).href, CLI_ENTRY, 'child'],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          MODULE_LOG: log,
          LOG_LEVEL: 'warn',
          CASCADE_PARENT_API_URL: parent.url,
          CASCADE_API_KEY: `CN${'a'.repeat(32)}`,
          CASCADE_API_SECRET: `CS${'b'.repeat(32)}`,
          CASCADE_DATA_DIR: join(dir, 'data'),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await parent.claimed;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const loaded = readFileSync(log, 'utf8');
    expect(loaded).toContain('/better-sqlite3/'); // the outbox is open: the recorder saw the child's modules
    expect(loaded).not.toContain('/feedsmith/');
    expect(loaded).not.toContain('/@sinclair/typebox/');
    expect(loaded).not.toMatch(/\/ajv\/dist\/(ajv|core)\.js/);
    expect(loaded).not.toContain('undici');
  });
});
