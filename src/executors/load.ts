import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/load.js';
import { createFeedExecutor } from './feed.js';
import type { FetchLimits } from './http-fetch.js';
import type { Executor } from './types.js';

const TYPESCRIPT = /\.(?:ts|mts|cts)$/;

/**
 * `executor: feed` → the built-in feed executor; anything else is a module path (relative to the working
 * directory) whose default export, or export named `executor`, is the executor function. A TypeScript module is
 * loaded through tsx when it is installed (a checkout has it), so `cascade child` runs a `.ts` executor as is.
 */
export async function loadExecutor(spec: string, limits: FetchLimits, baseDir = process.cwd()): Promise<Executor> {
  if (spec === 'feed') return createFeedExecutor(limits);
  const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  let module: Record<string, unknown>;
  try {
    module = TYPESCRIPT.test(path)
      ? await importTypeScript(path)
      : ((await import(pathToFileURL(path).href)) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`cascade.executor: cannot load module '${path}': ${(error as Error).message}`], 'executor');
  }
  // A .ts file outside a `"type": "module"` package is compiled as CommonJS: its exports arrive under `default`.
  const exports = TYPESCRIPT.test(path) && isRecord(module.default) ? module.default : module;
  const candidate = exports.default ?? exports.executor;
  if (typeof candidate !== 'function') {
    throw new ConfigError(
      [`cascade.executor: module '${path}' must export a function as default or as 'executor'`],
      'executor',
    );
  }
  return candidate as Executor;
}

async function importTypeScript(path: string): Promise<Record<string, unknown>> {
  let tsImport: (specifier: string, parentUrl: string) => Promise<Record<string, unknown>>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch {
    throw new ConfigError(
      [
        `cascade.executor: '${path}' is TypeScript, which needs tsx: install it next to cascade (npm install tsx), or compile the executor to .js and point at that`,
      ],
      'executor',
    );
  }
  return tsImport(pathToFileURL(path).href, import.meta.url);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
