import { readFileSync } from 'node:fs';
import { ConfigError, parentUrls } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** The heartbeat answer does not carry the node's max_capacity, so without `max_concurrency` a child runs 4 feeds at once. */
export const DEFAULT_MAX_CONCURRENCY = 4;

export type ChildSettings = {
  parentUrls: string[];
  apiKey: string;
  apiSecret: string;
  maxConcurrency: number;
  heartbeatIntervalMs: number;
  claimWaitSeconds: number;
  shutdownGraceMs: number;
  dataDir: string;
  executor: string;
  callbackUrl: string | undefined;
  fetchTimeoutMs: number;
  fetchMaxBytes: number;
  /** 0: no health endpoint. */
  healthPort: number;
};

/** Checks what a child cannot run without and names each missing setting with its environment variable. */
export function resolveChildSettings(config: Readonly<Config>): ChildSettings {
  const c = config.cascade;
  const problems: string[] = [];
  const urls = parentUrls(config);
  if (urls.length === 0) problems.push('cascade.parent_api_url: required for a child (env CASCADE_PARENT_API_URL), e.g. http://parent:8001');
  for (const url of urls) if (!/^https?:\/\/[^/]/i.test(url)) problems.push(`cascade.parent_api_url: '${url}' is not an http(s) URL`);
  if (!c.api_key) problems.push("cascade.api_key: required for a child (env CASCADE_API_KEY); get it from 'cascade node add'");
  if (!c.api_secret) problems.push("cascade.api_secret: required for a child (env CASCADE_API_SECRET); shown once by 'cascade node add'");
  if (problems.length > 0) throw new ConfigError(problems, 'child settings');
  return {
    parentUrls: urls,
    apiKey: c.api_key as string,
    apiSecret: c.api_secret as string,
    maxConcurrency: c.max_concurrency ?? DEFAULT_MAX_CONCURRENCY,
    heartbeatIntervalMs: c.heartbeat_interval * 1000,
    claimWaitSeconds: c.claim_wait_seconds,
    shutdownGraceMs: c.shutdown_grace_seconds * 1000,
    dataDir: c.data_dir,
    executor: c.executor,
    callbackUrl: c.callback_url,
    fetchTimeoutMs: c.fetch_timeout_seconds * 1000,
    fetchMaxBytes: c.fetch_max_bytes,
    healthPort: c.health_port,
  };
}

let cachedVersion: string | undefined;
/** The package version, reported in heartbeats. */
export function childVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      cachedVersion = (JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { version: string }).version;
      return cachedVersion;
    } catch {
      // not at this depth (src/ vs dist/src/)
    }
  }
  return (cachedVersion = '0.0.0');
}
