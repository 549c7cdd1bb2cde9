import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { supervise, type SupervisedProcess } from './supervised-process.js';

/** The CLI entry next to this module: src/cli/main.ts under tsx, dist/cli/main.js when built. */
function cliEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`../cli/main${extname(here)}`, import.meta.url));
}

export type SpawnChildOptions = {
  name: string;
  parentUrls: string[];
  apiKey: string;
  apiSecret: string;
  /** Folder for this child's config, outbox and log. */
  dir: string;
  maxConcurrency: number;
  /** More `cascade.*` settings (heartbeat_interval, claim_wait_seconds, shutdown_grace_seconds…). */
  cascade?: Record<string, unknown>;
  once?: boolean;
  logLevel?: string;
  /** Node flags; default this process's own (so `--import tsx` carries over). */
  nodeArgs?: string[];
  /** Where stderr (the JSON log) goes; default `<dir>/child.log`. */
  logFile?: string;
  /** The CLI script to run; default the one next to this module (`bin/cascade` runs the built one). */
  entry?: string;
  /** Its own process group, so a signal to the group reaches the child and nothing else. */
  detached?: boolean;
};

export type ChildHandle = SupervisedProcess & { name: string; logFile: string };

/** Starts `cascade child` as a real process with its own config file and data folder. */
export function spawnChild(options: SpawnChildOptions): ChildHandle {
  mkdirSync(options.dir, { recursive: true });
  const configPath = join(options.dir, 'config.yaml');
  const config = {
    log_level: options.logLevel ?? 'info',
    cascade: {
      enabled: true,
      node_type: 'child',
      parent_api_url: options.parentUrls,
      api_key: options.apiKey,
      api_secret: options.apiSecret,
      max_concurrency: options.maxConcurrency,
      data_dir: join(options.dir, 'data'),
      ...options.cascade,
    },
    // The demo's parent and sample-feed server listen on this machine: allow loopback explicitly (refused by default).
    network: { allow_cidrs: ['127.0.0.1'] },
  };
  writeFileSync(configPath, stringify(config), { mode: 0o600 });
  const logFile = options.logFile ?? join(options.dir, 'child.log');
  const args = [
    ...(options.nodeArgs ?? process.execArgv),
    options.entry ?? cliEntryPath(),
    'child',
    '--config',
    configPath,
    ...(options.once ? ['--once'] : []),
  ];
  // A clean environment: only what node needs, so a developer's CASCADE_* variables cannot leak into the demo.
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'NODE_OPTIONS', 'SYSTEMROOT', 'TMPDIR'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  // The working directory stays ours: `--import tsx` in execArgv resolves from it.
  const child = spawn(process.execPath, args, {
    cwd: process.cwd(),
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr?.pipe(log);
  // Object.assign, not a spread: a spread would copy `running` once instead of keeping its getter.
  return Object.assign(supervise(child), { name: options.name, logFile });
}
