import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { supervise, type SupervisedProcess } from '../../src/demo/supervised-process.js';
import { REPO_ROOT, TSX_NODE_ARGS } from '../helpers/cli.js';

export type ParentProcess = SupervisedProcess & { url: string; logFile: string };

const started: ParentProcess[] = [];

/**
 * Spawns a parent process on `databaseUrl` and resolves once it listens (fails if it exits first). Politeness is off
 * unless `env` turns it on: the test feeds share one or two hosts (as in test/helpers/parent.ts).
 */
export function spawnParent(
  databaseUrl: string,
  logDir: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ParentProcess> {
  const logFile = join(logDir, `${name}.log`);
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, join(REPO_ROOT, 'src/cli/main.ts'), 'parent'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      CASCADE_SCHEDULER_ENABLED: 'false',
      CASCADE_POLITENESS_ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The parent logs JSON lines on stderr; the one that says it listens carries the bound URL.
  child.stderr?.pipe(createWriteStream(logFile, { flags: 'a' }));
  const supervised = supervise(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let found = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = found ? undefined : listeningUrl(out);
      if (!url) return;
      found = true;
      const handle: ParentProcess = Object.assign(supervised, { url, logFile });
      started.push(handle);
      resolve(handle);
    });
    void supervised.exited.then(({ code, signal }) =>
      reject(new Error(`parent ${name} exited before listening (code ${code}, signal ${signal}); see ${logFile}`)),
    );
  });
}

function listeningUrl(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { url?: unknown };
      if (typeof entry.url === 'string') return entry.url;
    } catch {
      // a partial line: wait for the rest
    }
  }
  return undefined;
}

/** Stops every parent process a test started; none may be left running. */
export async function stopAllParents(): Promise<void> {
  const stopping = started.splice(0);
  await Promise.all(stopping.map((p) => p.stop()));
  for (const p of stopping) if (p.running) throw new Error(`parent process ${p.process.pid} still running`);
}
