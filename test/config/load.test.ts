import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parentUrls } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'cascade-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default when there is no file and no environment', () => {
    const config = loadConfig({ env: {}, configPath: undefined });
    expect(config.port).toBe(8001);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database.url).toBe('sqlite:./data/cascade.db');
    expect(config.cascade.node_type).toBe('parent');
    expect(config.cascade.heartbeat_interval).toBe(60);
    expect(config.dispatch.lease_seconds).toBe(120);
  });

  it('lets the environment override the file, and flags override both', () => {
    const path = file('env.yaml', 'port: 9000\nhost: 127.0.0.1\ncascade:\n  sync_interval: 100\n  enabled: true\n');
    const fromFile = loadConfig({ configPath: path, env: {} });
    expect(fromFile.port).toBe(9000);
    const withEnv = loadConfig({
      configPath: path,
      env: { PORT: '9100', CASCADE_SYNC_INTERVAL: '42', CASCADE_ENABLED: 'off', DATABASE_URL: 'sqlite::memory:' },
    });
    expect(withEnv.port).toBe(9100);
    expect(withEnv.host).toBe('127.0.0.1');
    expect(withEnv.cascade.sync_interval).toBe(42);
    expect(withEnv.cascade.enabled).toBe(false);
    expect(withEnv.database.url).toBe('sqlite::memory:');
    const withFlags = loadConfig({
      configPath: path,
      env: { PORT: '9100' },
      overrides: { port: 9200, host: undefined },
    });
    expect(withFlags.port).toBe(9200);
    expect(withFlags.host).toBe('127.0.0.1');
  });

  it('finds the file through CASCADE_CONFIG', () => {
    const path = file('via-env.yaml', 'port: 9300\n');
    expect(loadConfig({ env: { CASCADE_CONFIG: path } }).port).toBe(9300);
  });

  it('rejects an unknown key, naming its full path', () => {
    const path = file('unknown.yaml', 'database:\n  url: "sqlite::memory:"\n  pool: 3\n');
    expect(problemsOf(() => loadConfig({ configPath: path, env: {} }))).toEqual([
      'database.pool: unknown setting (check the spelling; see docs/configuration.md)',
    ]);
  });

  it('rejects wrong types naming the key, the value and what it expects, all problems at once', () => {
    const path = file('types.yaml', 'port: "eighty"\nscheduler:\n  enabled: "sometimes"\ncascade:\n  node_type: kid\n');
    const problems = problemsOf(() => loadConfig({ configPath: path, env: { CASCADE_HEARTBEAT_INTERVAL: '0' } }));
    expect(problems).toEqual([
      'port: got "eighty", expected a whole number from 0 to 65535',
      'scheduler.enabled: got "sometimes", expected true or false',
      'cascade.node_type: got "kid", expected one of "parent", "child"',
      'cascade.heartbeat_interval: got 0, expected a whole number from 1 to 3600',
    ]);
  });

  it('reports a bad environment value under the key it sets', () => {
    expect(problemsOf(() => loadConfig({ env: { PORT: 'abc' } }))).toEqual([
      'port: got "abc", expected a whole number from 0 to 65535',
    ]);
  });

  it('never echoes a secret value in a message', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { SECRET_KEY: 'too-short-secret', CASCADE_API_SECRET: 'CSnot-valid-secret' } }),
    );
    expect(problems.join('\n')).not.toContain('too-short-secret');
    expect(problems.join('\n')).not.toContain('CSnot-valid-secret');
    expect(problems.some((p) => p.startsWith('secret:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('cascade.api_secret:'))).toBe(true);
  });

  it('accepts one parent URL, a comma-separated list, or a YAML list, and strips trailing slashes', () => {
    const single = loadConfig({ env: { CASCADE_PARENT_API_URL: 'http://p1:8001/' } });
    expect(parentUrls(single)).toEqual(['http://p1:8001']);
    const commas = loadConfig({ env: { CASCADE_PARENT_URL: 'http://p1:8001, http://p2:8001/,' } });
    expect(parentUrls(commas)).toEqual(['http://p1:8001', 'http://p2:8001']);
    const fromFileCommas = loadConfig({
      configPath: file('commas.yaml', 'cascade:\n  parent_api_url: "http://a:1,http://b:2"\n'),
      env: {},
    });
    expect(parentUrls(fromFileCommas)).toEqual(['http://a:1', 'http://b:2']);
    const list = loadConfig({
      configPath: file('list.yaml', 'cascade:\n  parent_api_url:\n    - http://a:1\n    - http://b:2\n'),
      env: {},
    });
    expect(parentUrls(list)).toEqual(['http://a:1', 'http://b:2']);
    expect(parentUrls(loadConfig({ env: {} }))).toEqual([]);
  });

  it('prefers CASCADE_PARENT_API_URL when both parent URL variables are set', () => {
    const config = loadConfig({ env: { CASCADE_PARENT_URL: 'http://old:1', CASCADE_PARENT_API_URL: 'http://new:1' } });
    expect(parentUrls(config)).toEqual(['http://new:1']);
  });

  it('rejects invalid YAML and a file that is not a mapping', () => {
    expect(problemsOf(() => loadConfig({ configPath: file('broken.yaml', 'port: [1, 2\n'), env: {} }))[0]).toContain(
      'not valid YAML',
    );
    expect(problemsOf(() => loadConfig({ configPath: file('list-root.yaml', '- 1\n- 2\n'), env: {} }))).toEqual([
      'config file must hold a mapping of keys to values',
    ]);
  });

  it('refuses private addresses by default and reads the network allowances from the file or the environment', () => {
    expect(loadConfig({ env: {} }).network).toEqual({ allow_private: false, allow_cidrs: [] });
    const fromEnv = loadConfig({
      env: { CASCADE_NETWORK_ALLOW_PRIVATE: 'yes', CASCADE_NETWORK_ALLOW_CIDRS: '127.0.0.1, 192.168.1.0/24' },
    }).network;
    expect(fromEnv).toEqual({ allow_private: true, allow_cidrs: ['127.0.0.1', '192.168.1.0/24'] });
    const error = (() => {
      try {
        loadConfig({ env: {}, overrides: { 'network.allow_cidrs': ['10.0.0.0/8', 'lan', '10.0.0.0/40'] } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      "network.allow_cidrs: 'lan' is not an IP address or CIDR range (e.g. 10.1.0.0/16, 127.0.0.1, fd12::/64)",
      "network.allow_cidrs: '10.0.0.0/40' is not an IP address or CIDR range (e.g. 10.1.0.0/16, 127.0.0.1, fd12::/64)",
    ]);
  });

  it('takes an IANA scheduler.timezone from the environment and names a zone that does not exist', () => {
    expect(loadConfig({ env: { CASCADE_SCHEDULER_TIMEZONE: 'Asia/Shanghai' } }).scheduler.timezone).toBe(
      'Asia/Shanghai',
    );
    expect(loadConfig({ env: {} }).scheduler.timezone).toBeUndefined();
    expect(problemsOf(() => loadConfig({ env: { CASCADE_SCHEDULER_TIMEZONE: 'Mars/Olympus' } }))).toEqual([
      "scheduler.timezone: 'Mars/Olympus' is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Shanghai)",
    ]);
  });

  it('reads politeness with per-host overrides and rejects bad limits and keys hosts are not counted under', () => {
    const good = loadConfig({
      configPath: file(
        'polite.yaml',
        'politeness:\n  max_in_flight_per_host: 3\n  hosts:\n    example.com: { max_in_flight: 1, min_interval_ms: 5000 }\n    127.0.0.1: { max_in_flight: 4 }\n',
      ),
      env: {},
    });
    expect(good.politeness).toMatchObject({
      enabled: true,
      max_in_flight_per_host: 3,
      min_interval_ms_per_host: 1000,
      max_pause_seconds: 3600,
    });
    expect(good.politeness.hosts['example.com']).toEqual({ max_in_flight: 1, min_interval_ms: 5000 });
    expect(loadConfig({ env: {} }).politeness).toMatchObject({
      enabled: true,
      max_in_flight_per_host: 2,
      min_interval_ms_per_host: 1000,
      hosts: {},
    });
    expect(problemsOf(() => loadConfig({ env: { CASCADE_POLITENESS_MAX_IN_FLIGHT_PER_HOST: '0' } }))).toEqual([
      'politeness.max_in_flight_per_host: got 0, expected a whole number from 1 to 10000',
    ]);
    expect(
      problemsOf(() =>
        loadConfig({ configPath: file('polite-neg.yaml', 'politeness:\n  min_interval_ms_per_host: -5\n'), env: {} }),
      ),
    ).toEqual(['politeness.min_interval_ms_per_host: got -5, expected a whole number from 0 to 86400000']);
    expect(
      problemsOf(() =>
        loadConfig({
          configPath: file('polite-key.yaml', 'politeness:\n  hosts:\n    www.example.com: { max_in_flight: 1 }\n'),
          env: {},
        }),
      ),
    ).toEqual([
      "politeness.hosts.www.example.com: hosts are counted by registrable domain; use 'example.com' (it covers www.example.com)",
    ]);
    expect(
      problemsOf(() =>
        loadConfig({
          configPath: file('polite-unknown.yaml', 'politeness:\n  hosts:\n    example.com: { max_inflight: 1 }\n'),
          env: {},
        }),
      ),
    ).toEqual([
      'politeness.hosts.example.com.max_inflight: unknown setting (check the spelling; see docs/configuration.md)',
    ]);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cascade)).toBe(true);
  });
});
