import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS } from '../../src/config/env-bindings.generated.js';
import { applyEnvironment, coerceEnvValue, envBindings } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';

/** Every environment variable the loader read before the names moved into the schema, with the key it set. */
const NAMES_BEFORE_THE_SCHEMA_OWNED_THEM: ReadonlyArray<readonly [string, string]> = [
  ['HOST', 'host'],
  ['PORT', 'port'],
  ['SECRET_KEY', 'secret'],
  ['TOKEN_EXPIRE_MINUTES', 'token_expire_minutes'],
  ['LOG_LEVEL', 'log_level'],
  ['CASCADE_SCHEDULER_TIMEZONE', 'scheduler.timezone'],
  ['CASCADE_LOG_FORMAT', 'log_format'],
  ['DATABASE_URL', 'database.url'],
  ['CASCADE_DB_POOL_SIZE', 'database.pool_size'],
  ['CASCADE_DB_PREPARED_STATEMENTS', 'database.prepared_statements'],
  ['CASCADE_FEEDS_PER_ALLOCATION', 'dispatch.feeds_per_allocation'],
  ['CASCADE_LEASE_SECONDS', 'dispatch.lease_seconds'],
  ['CASCADE_SWEEP_INTERVAL_SECONDS', 'dispatch.sweep_interval_seconds'],
  ['CASCADE_RETRY_BACKOFF_SECONDS', 'dispatch.retry_backoff_seconds'],
  ['CASCADE_MAX_ATTEMPTS', 'dispatch.max_attempts'],
  ['CASCADE_OFFLINE_AFTER_SECONDS', 'dispatch.offline_after_seconds'],
  ['CASCADE_SCHEDULER_ENABLED', 'scheduler.enabled'],
  ['CASCADE_METRICS_TOKEN', 'metrics.token'],
  ['CASCADE_SIGNATURE_WINDOW_SECONDS', 'auth.signature_window_seconds'],
  ['CASCADE_SECRETS_KEY', 'secrets.key'],
  ['CASCADE_NETWORK_ALLOW_PRIVATE', 'network.allow_private'],
  ['CASCADE_NETWORK_ALLOW_CIDRS', 'network.allow_cidrs'],
  ['CASCADE_TRUST_PROXY', 'server.trust_proxy'],
  ['CASCADE_MAX_CONNECTIONS', 'server.max_connections'],
  ['CASCADE_TLS_CERT', 'server.tls.cert'],
  ['CASCADE_TLS_KEY', 'server.tls.key'],
  ['CASCADE_ENABLED', 'cascade.enabled'],
  ['CASCADE_NODE_TYPE', 'cascade.node_type'],
  ['CASCADE_PARENT_URL', 'cascade.parent_api_url'],
  ['CASCADE_PARENT_API_URL', 'cascade.parent_api_url'],
  ['CASCADE_API_KEY', 'cascade.api_key'],
  ['CASCADE_API_SECRET', 'cascade.api_secret'],
  ['CASCADE_NOTIFY_KEY', 'cascade.notify_key'],
  ['CASCADE_REQUEST_SIGNING', 'cascade.request_signing'],
  ['CASCADE_SYNC_INTERVAL', 'cascade.sync_interval'],
  ['CASCADE_CLAIM_INTERVAL', 'cascade.claim_interval_seconds'],
  ['CASCADE_HEARTBEAT_INTERVAL', 'cascade.heartbeat_interval'],
  ['CASCADE_MAX_CONCURRENCY', 'cascade.max_concurrency'],
  ['CASCADE_CALLBACK_URL', 'cascade.callback_url'],
  ['CASCADE_EXECUTOR', 'cascade.executor'],
  ['CASCADE_DATA_DIR', 'cascade.data_dir'],
  ['CASCADE_HEALTH_PORT', 'cascade.health_port'],
];

describe('environment bindings', () => {
  it('keeps every variable that worked before, under the same name and for the same key', () => {
    const bound = ENV_BINDINGS.map(({ name, path }) => [name, path] as const);
    for (const pair of NAMES_BEFORE_THE_SCHEMA_OWNED_THEM) expect(bound).toContainEqual(pair);
  });

  it('binds each name once', () => {
    const names = ENV_BINDINGS.map((binding) => binding.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('converts every integer and boolean variable to the schema type, so a valid value loads', () => {
    for (const binding of ENV_BINDINGS.filter((b) => b.kind === 'integer' || b.kind === 'boolean')) {
      const text = binding.kind === 'integer' ? String(validInteger(binding.path)) : 'no';
      const config = loadConfig({ env: { [binding.name]: text } });
      expect(valueAt(config, binding.path), binding.name).toBe(binding.kind === 'integer' ? Number(text) : false);
    }
  });

  it('derives the conversion from the field type', () => {
    const schema = {
      properties: {
        n: { type: 'integer', env: ['N'] },
        b: { type: 'boolean', env: ['B'] },
        l: { type: 'array', env: ['L'] },
        u: { anyOf: [{ type: 'string' }, { type: 'array' }], env: ['U1', 'U2'] },
        group: { type: 'object', properties: { s: { type: 'string', env: ['S'] }, quiet: { type: 'string' } } },
      },
    };
    expect(envBindings(schema)).toEqual([
      { name: 'N', path: 'n', kind: 'integer' },
      { name: 'B', path: 'b', kind: 'boolean' },
      { name: 'L', path: 'l', kind: 'list' },
      { name: 'U1', path: 'u', kind: 'one-or-list' },
      { name: 'U2', path: 'u', kind: 'one-or-list' },
      { name: 'S', path: 'group.s', kind: 'string' },
    ]);
    expect(coerceEnvValue('integer', ' 42 ')).toBe(42);
    expect(coerceEnvValue('integer', '4.2')).toBe('4.2');
    expect(coerceEnvValue('boolean', 'ON')).toBe(true);
    expect(coerceEnvValue('boolean', 'maybe')).toBe('maybe');
    expect(coerceEnvValue('list', 'a, b,,')).toEqual(['a', 'b']);
    expect(coerceEnvValue('one-or-list', 'a,')).toBe('a');
    expect(coerceEnvValue('one-or-list', 'a,b')).toEqual(['a', 'b']);
  });

  it('lets the first listed variable of a key win and skips empty ones', () => {
    const bindings = envBindings({ properties: { u: { type: 'string', env: ['FIRST', 'SECOND'] } } });
    const both: Record<string, unknown> = {};
    applyEnvironment(both, { SECOND: 'second', FIRST: 'first' }, bindings);
    expect(both).toEqual({ u: 'first' });
    const emptyFirst: Record<string, unknown> = {};
    applyEnvironment(emptyFirst, { FIRST: '', SECOND: 'second' }, bindings);
    expect(emptyFirst).toEqual({ u: 'second' });
  });
});

/** A whole number the key accepts: its default moved by one within its range, so the variable visibly took effect. */
function validInteger(path: string): number {
  const defaults = loadConfig({ env: {} });
  const current = valueAt(defaults, path);
  return typeof current === 'number' && current > 5 ? current - 1 : 7;
}

function valueAt(config: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((cursor, part) => (cursor as Record<string, unknown> | undefined)?.[part], config);
}
