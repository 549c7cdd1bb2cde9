import { readFileSync } from 'node:fs';
import { ConfigError, parentUrls } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { networkPolicy, type NetworkPolicy } from '../net/address-policy.js';
import type { RequestSigning } from './parent-client.js';

/**
 * Without `max_concurrency` a child runs as many feeds at once as its node's `max_capacity`, which every heartbeat
 * answer carries; until the first answer (or from a parent that does not send it) it assumes the default capacity
 * of a new node.
 */
export const CAPACITY_UNTIL_KNOWN = 10;

export type ChildSettings = {
  parentUrls: string[];
  /** The child API's path on every parent: `/api/v1/cascade`, or `/api/v1/wx/cascade` when the URLs name it. */
  apiBasePath: string;
  apiKey: string;
  apiSecret: string;
  /** `cascade.request_signing`: see ParentClient. */
  requestSigning: RequestSigning;
  /** Undefined: follow the node's `max_capacity` from the heartbeat answers. */
  maxConcurrency: number | undefined;
  heartbeatIntervalMs: number;
  claimWaitSeconds: number;
  /** With long-poll off: the idle wait between claims (a notify cuts it short). */
  claimIntervalMs: number;
  syncIntervalMs: number;
  /** Verifies the parent's notify calls; undefined: every notify is refused. */
  notifyKey: string | undefined;
  shutdownGraceMs: number;
  dataDir: string;
  executor: string;
  callbackUrl: string | undefined;
  fetchTimeoutMs: number;
  fetchMaxBytes: number;
  /** `cascade.retry_after_max_seconds`: the longest feed `Retry-After` waited out within an attempt; 0: never. */
  retryAfterMaxMs: number;
  /** 0: no health endpoint. */
  healthPort: number;
  /** What feed fetches (and their redirects) may reach: `network.allow_private`, `network.allow_cidrs`. */
  networkPolicy: NetworkPolicy;
};

const DEFAULT_API_BASE_PATH = '/api/v1/cascade';
const API_PATH = /(\/api\/v1(?:\/wx)?\/cascade)\/?$/;

/**
 * A parent URL may be the bare address (`http://parent:8001`) or, as the original child was configured, end in the
 * API path (`http://parent:8001/api/v1/wx/cascade`): the path is split off and used for every call.
 */
function splitApiPath(url: string): { url: string; apiBasePath: string } {
  const match = API_PATH.exec(url);
  if (!match) return { url, apiBasePath: DEFAULT_API_BASE_PATH };
  return { url: url.slice(0, match.index), apiBasePath: match[1] as string };
}

/** Checks what a child cannot run without and names each missing setting with its environment variable. */
export function resolveChildSettings(config: Readonly<Config>): ChildSettings {
  const c = config.cascade;
  const problems: string[] = [];
  const urls = parentUrls(config);
  if (urls.length === 0)
    problems.push('cascade.parent_api_url: required for a child (env CASCADE_PARENT_API_URL), e.g. http://parent:8001');
  for (const url of urls)
    if (!/^https?:\/\/[^/]/i.test(url)) problems.push(`cascade.parent_api_url: '${url}' is not an http(s) URL`);
  if (!c.api_key)
    problems.push("cascade.api_key: required for a child (env CASCADE_API_KEY); get it from 'cascade node add'");
  if (!c.api_secret)
    problems.push(
      "cascade.api_secret: required for a child (env CASCADE_API_SECRET); shown once by 'cascade node add'",
    );
  const split = urls.map(splitApiPath);
  const apiBasePath = split[0]?.apiBasePath ?? DEFAULT_API_BASE_PATH;
  if (split.some((s) => s.apiBasePath !== apiBasePath))
    problems.push('cascade.parent_api_url: every parent URL must name the same API path (or none)');
  if (problems.length > 0) throw new ConfigError(problems, 'child settings');
  return {
    parentUrls: split.map((s) => s.url),
    apiBasePath,
    apiKey: c.api_key as string,
    apiSecret: c.api_secret as string,
    requestSigning: c.request_signing,
    maxConcurrency: c.max_concurrency,
    heartbeatIntervalMs: c.heartbeat_interval * 1000,
    claimWaitSeconds: c.claim_wait_seconds,
    claimIntervalMs: c.claim_interval_seconds * 1000,
    syncIntervalMs: c.sync_interval * 1000,
    notifyKey: c.notify_key,
    shutdownGraceMs: c.shutdown_grace_seconds * 1000,
    dataDir: c.data_dir,
    executor: c.executor,
    callbackUrl: c.callback_url,
    fetchTimeoutMs: c.fetch_timeout_seconds * 1000,
    fetchMaxBytes: c.fetch_max_bytes,
    retryAfterMaxMs: c.retry_after_max_seconds * 1000,
    healthPort: c.health_port,
    networkPolicy: networkPolicy(config.network),
  };
}

let cachedVersion: string | undefined;
/** The package version, reported in heartbeats. */
export function childVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      cachedVersion = (JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { version: string })
        .version;
      return cachedVersion;
    } catch {
      // not at this depth (src/ vs dist/src/)
    }
  }
  return (cachedVersion = '0.0.0');
}
