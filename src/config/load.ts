import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { validate } from './config-validator.generated.js';
import { politenessConfigProblems } from '../domain/host-politeness.js';
import { parseCidr } from '../net/address-policy.js';
import { applyEnvironment, oneOrList, setPath } from './env.js';
import { ENV_BINDINGS } from './env-bindings.generated.js';
import type { Config } from './schema.js';

/** A configuration problem: the CLI prints it and exits with code 2. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[], source: string) {
    super(`Invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type LoadOptions = {
  /** Explicit --config path; otherwise CASCADE_CONFIG, then ./config.yaml when present. */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, applied last, as dotted paths (`database.url`). */
  overrides?: Record<string, unknown>;
};

/** ConfigSchema compiled ahead of time (src/config/validator-code.ts), so loading a config loads neither TypeBox nor Ajv. */
const validateConfig = validate as ValidateFunction<Config>;

export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const path = options.configPath ?? env.CASCADE_CONFIG ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  const source = path ? resolve(path) : 'defaults and environment';
  const raw = path ? readConfigFile(path) : {};
  const problems: string[] = [];
  applyEnvironment(raw, env, ENV_BINDINGS);
  for (const [keyPath, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, keyPath, value);
  }
  if (!validateConfig(raw)) {
    problems.push(...describeProblems(validateConfig.errors ?? [], raw));
    throw new ConfigError(problems, source);
  }
  for (const cidr of raw.network.allow_cidrs) {
    const parsed = parseCidr(cidr);
    if (typeof parsed === 'string') problems.push(`network.allow_cidrs: ${parsed}`);
  }
  problems.push(...crossFieldProblems(raw));
  if (problems.length > 0) throw new ConfigError(problems, source);
  return deepFreeze(normalize(raw));
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read config file '${path}': ${(error as Error).message}`], path);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError([`config file is not valid YAML: ${(error as Error).message}`], path);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(['config file must hold a mapping of keys to values'], path);
  }
  return parsed as Record<string, unknown>;
}

function getPath(target: unknown, pointer: string): unknown {
  let cursor = target;
  for (const part of pointer.split('/').filter(Boolean)) {
    if (typeof cursor !== 'object' || cursor === null) return undefined;
    cursor = (cursor as Record<string, unknown>)[part];
  }
  return cursor;
}

type SchemaFacts = {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  const?: unknown;
  anyOf?: SchemaFacts[];
};

/** Keys whose values never appear in a message. */
const SECRET_KEYS = new Set(['secret', 'secrets.key', 'cascade.api_secret', 'cascade.notify_key', 'metrics.token']);

/**
 * One line per wrong key: `key: got VALUE, expected WHAT`. A union (`node_type`, `parent_api_url`) reports its
 * choices once instead of one line per branch.
 */
function describeProblems(errors: readonly ErrorObject[], raw: unknown): string[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const lines: string[] = [];
  for (const error of errors) {
    const insideUnion = [...unionPaths].some(
      (path) => error.instancePath === path || error.instancePath.startsWith(`${path}/`),
    );
    if (insideUnion && error.keyword !== 'anyOf') continue;
    const line = describeProblem(error, raw);
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

function describeProblem(error: ErrorObject, raw: unknown): string {
  const base = error.instancePath.split('/').filter(Boolean).join('.');
  if (error.keyword === 'additionalProperties') {
    const key = [base, String(error.params.additionalProperty)].filter(Boolean).join('.');
    return `${key}: unknown setting (check the spelling; see docs/configuration.md)`;
  }
  const key = base || '(root)';
  const got = SECRET_KEYS.has(base) ? 'a value (hidden)' : JSON.stringify(getPath(raw, error.instancePath));
  if (error.keyword === 'pattern' && base === 'cascade.api_key')
    return `${key}: got ${got}, expected 'CN' followed by 32 characters from A-Z a-z 0-9 _ -`;
  if (error.keyword === 'pattern' && base === 'cascade.api_secret')
    return `${key}: got a value that is not 'CS' followed by 32 characters from A-Z a-z 0-9 _ -`;
  return `${key}: got ${got}, expected ${expectation(error.keyword, (error.parentSchema ?? {}) as SchemaFacts, error.message)}`;
}

function expectation(keyword: string, schema: SchemaFacts, fallback: string | undefined): string {
  const range = (): string =>
    schema.minimum !== undefined && schema.maximum !== undefined
      ? `from ${schema.minimum} to ${schema.maximum}`
      : schema.minimum !== undefined
        ? `of at least ${schema.minimum}`
        : `of at most ${schema.maximum}`;
  switch (keyword) {
    case 'type':
      if (schema.type === 'integer')
        return `a whole number${schema.minimum !== undefined || schema.maximum !== undefined ? ` ${range()}` : ''}`;
      if (schema.type === 'boolean') return 'true or false';
      if (schema.type === 'string') return 'text (a string)';
      if (schema.type === 'object') return 'a mapping of keys to values';
      return `a value of type ${schema.type ?? '?'}`;
    case 'minimum':
    case 'maximum':
      return `a whole number ${range()}`;
    case 'minLength':
      return schema.minLength === 1 ? 'a non-empty string' : `at least ${schema.minLength} characters`;
    case 'minItems':
      return 'a non-empty list';
    case 'pattern':
      return `text matching ${schema.pattern ?? '?'}`;
    case 'anyOf': {
      const options = schema.anyOf ?? [];
      if (options.length > 0 && options.every((o) => o.const !== undefined))
        return `one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}`;
      return options
        .map((o) => (o.type === 'array' ? 'a list' : o.type === 'string' ? 'a string' : (o.type ?? 'a value')))
        .join(' or ');
    }
    default:
      return `a value that ${fallback ?? 'matches the schema'}`;
  }
}

/** Rules that span two keys, checked once the shape is valid. */
function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  const { tls, headers_timeout_seconds: headers, request_timeout_seconds: request } = config.server;
  if ((tls.cert === undefined) !== (tls.key === undefined))
    problems.push('server.tls: set both `cert` and `key` (PEM file paths), or neither');
  if (headers > request)
    problems.push(
      `server.headers_timeout_seconds: got ${headers}, expected at most server.request_timeout_seconds (${request})`,
    );
  const { lease_seconds: lease, timeout_seconds: timeout } = config.delivery;
  // A lease shorter than a send would let a second sender resend while the first still waits for its answer.
  if (lease <= timeout)
    problems.push(`delivery.lease_seconds (${lease}) must be more than delivery.timeout_seconds (${timeout}).`);
  const { min_interval: minInterval, max_interval: maxInterval } = config.refresh;
  if (maxInterval < minInterval)
    problems.push(`refresh.max_interval (${maxInterval}) must be at least refresh.min_interval (${minInterval}).`);
  const timezone = config.scheduler.timezone;
  if (timezone !== undefined && !isTimeZone(timezone))
    problems.push(
      `scheduler.timezone: '${timezone}' is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Shanghai)`,
    );
  problems.push(...politenessConfigProblems(config.politeness));
  return problems;
}

function normalize(config: Config): Config {
  const urls = config.cascade.parent_api_url;
  if (typeof urls === 'string') {
    const split = oneOrList(urls);
    return { ...config, cascade: { ...config.cascade, parent_api_url: split } };
  }
  return config;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The parent URLs of a child config as a list (the setting accepts one URL, a list, or comma-separated). */
export function parentUrls(config: Config): string[] {
  const urls = config.cascade.parent_api_url;
  if (urls === undefined) return [];
  return (Array.isArray(urls) ? urls : [urls]).map((u) => u.replace(/\/+$/, ''));
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
