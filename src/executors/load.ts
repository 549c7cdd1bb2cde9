import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/load.js';
import { createFeedExecutor } from './feed.js';
import type { FetchLimits } from './http-fetch.js';
import type { Executor } from './types.js';

/**
 * `executor: feed` → the built-in feed executor; anything else is a module path (relative to the working
 * directory) whose default export, or export named `executor`, is the executor function.
 */
export async function loadExecutor(spec: string, limits: FetchLimits, baseDir = process.cwd()): Promise<Executor> {
  if (spec === 'feed') return createFeedExecutor(limits);
  const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([`cascade.executor: cannot load module '${path}': ${(error as Error).message}`], 'executor');
  }
  const candidate = module.default ?? module.executor;
  if (typeof candidate !== 'function') {
    throw new ConfigError([`cascade.executor: module '${path}' must export a function as default or as 'executor'`], 'executor');
  }
  return candidate as Executor;
}
