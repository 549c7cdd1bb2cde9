import { describe, expect, it } from 'vitest';
import {
  hostKeyOf,
  hostsOfFeeds,
  pauseUntil,
  politenessConfigProblems,
  politenessRules,
  whyWaiting,
} from '../../src/domain/host-politeness.js';

describe('per-host politeness rules', () => {
  const rules = politenessRules({
    enabled: true,
    max_in_flight_per_host: 2,
    min_interval_ms_per_host: 1000,
    max_pause_seconds: 60,
    hosts: { 'example.com': { max_in_flight: 1 } },
  });

  it('counts hosts by registrable domain; IP literals and localhost count as themselves', () => {
    expect(hostKeyOf('https://a.b.example.com/feed')).toBe('example.com');
    expect(hostKeyOf('https://news.example.co.uk/rss')).toBe('example.co.uk');
    expect(hostKeyOf('http://127.0.0.1:8080/x')).toBe('127.0.0.1');
    expect(hostKeyOf('http://[::1]/x')).toBe('::1');
    expect(hostKeyOf('http://localhost:3000/')).toBe('localhost');
    expect(hostKeyOf('not a url')).toBeUndefined();
    expect(hostsOfFeeds(['https://a.example.com/1', 'https://b.example.com/2', 'http://127.0.0.1/3'])).toEqual(
      new Map([
        ['example.com', 2],
        ['127.0.0.1', 1],
      ]),
    );
  });

  it('says why work waits: a pause first, then fetches in flight, then the interval; an oversized allocation goes out alone', () => {
    const idle = { inFlight: 0, lastFetchAt: null, pausedUntil: null };
    const limits = { maxInFlight: 2, minIntervalMs: 1000 };
    expect(whyWaiting('example.org', 1, idle, limits, 5000)).toBeUndefined();
    expect(whyWaiting('example.org', 5, idle, limits, 5000)).toBeUndefined();
    expect(whyWaiting('example.org', 1, { ...idle, inFlight: 2 }, limits, 5000)?.note).toBe(
      'waiting: host example.org has 2 fetches in flight (limit 2)',
    );
    expect(whyWaiting('example.org', 1, { ...idle, inFlight: 1 }, limits, 5000)).toBeUndefined();
    expect(whyWaiting('example.org', 1, { ...idle, lastFetchAt: 4500 }, limits, 5000)).toMatchObject({ readyAt: 5500 });
    expect(whyWaiting('example.org', 1, { ...idle, lastFetchAt: 4000 }, limits, 5000)).toBeUndefined();
    expect(
      whyWaiting('example.org', 1, { inFlight: 2, lastFetchAt: 4900, pausedUntil: 9000 }, limits, 5000),
    ).toMatchObject({ readyAt: 9000, note: expect.stringContaining('Retry-After') });
  });

  it('bounds a pause by max_pause_seconds and applies overrides', () => {
    expect(pauseUntil(30, rules, 1000)).toBe(31000);
    expect(pauseUntil(3600, rules, 1000)).toBe(61000);
    expect(pauseUntil(0, rules, 1000)).toBeUndefined();
    expect(rules.hosts.get('example.com')).toEqual({ maxInFlight: 1, minIntervalMs: 1000 });
  });

  it('rejects override keys that are not what hosts are counted under', () => {
    const settings = { enabled: true, max_in_flight_per_host: 2, min_interval_ms_per_host: 0, max_pause_seconds: 0 };
    expect(
      politenessConfigProblems({ ...settings, hosts: { 'example.com': {}, '10.0.0.1': {}, localhost: {}, '::1': {} } }),
    ).toEqual([]);
    expect(politenessConfigProblems({ ...settings, hosts: { 'feeds.example.com': {} } })).toEqual([
      "politeness.hosts.feeds.example.com: hosts are counted by registrable domain; use 'example.com' (it covers feeds.example.com)",
    ]);
  });
});
