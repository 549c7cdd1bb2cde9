import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashPassword } from '../../src/auth/secrets.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { startParent, type Parent, type StartOptions } from '../../src/parent/parent.js';
import { api } from './http.js';

/** Every log line written by every test parent in this worker, so tests can prove secrets never reach a log. */
export const capturedLogs: string[] = [];

export type TestParent = {
  parent: Parent;
  url: string;
  config: Readonly<Config>;
  adminToken: string;
  dir: string;
  /** Creates a child node over the API and returns its id and credentials. */
  addChild(
    name: string,
    syncConfig?: { max_capacity?: number; feed_quota?: Record<string, number> },
  ): Promise<{ id: string; api_key: string; api_secret: string }>;
  close(): Promise<void>;
};

export type TestParentOptions = {
  /** Dotted config paths (`dispatch.lease_seconds`) to override. */
  overrides?: Record<string, unknown>;
  /** Database URL; default a fresh SQLite file in a temporary folder. */
  databaseUrl?: string;
  /** Parts to inject into the parent (such as a counting password check). */
  start?: StartOptions;
};

export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

/** Starts a real parent on 127.0.0.1:0 over a real store, with an admin user, and logs in. */
export async function startTestParent(options: TestParentOptions = {}): Promise<TestParent> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-test-'));
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      log_level: 'info',
      'database.url': options.databaseUrl ?? `sqlite:${join(dir, 'cascade.db')}`,
      'scheduler.enabled': false,
      // Test servers listen on 127.0.0.1, which the network policy refuses unless allowed.
      'network.allow_cidrs': ['127.0.0.1'],
      // Every test feed is on 127.0.0.1, one host: tests about politeness turn it on (test/e2e/politeness*.test.ts).
      'politeness.enabled': false,
      ...options.overrides,
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      capturedLogs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const parent = await startParent(config, createLogger(config.log_level, sink), options.start);
  const { store } = parent.services;
  if (!(await store.users.findByUsername(ADMIN.username))) {
    await store.users.create({
      username: ADMIN.username,
      passwordHash: await hashPassword(ADMIN.password),
      role: 'admin',
    });
  }
  const login = await api<{ access_token: string }>(parent.url, '/api/v1/auth/login', { json: ADMIN });
  if (login.status !== 200) throw new Error(`test login failed: ${JSON.stringify(login.body)}`);
  const adminToken = login.body.data.access_token;
  return {
    parent,
    url: parent.url,
    config,
    adminToken,
    dir,
    async addChild(name, syncConfig) {
      const response = await api<{ id: string; api_key: string; api_secret: string }>(
        parent.url,
        '/api/v1/cascade/nodes',
        {
          token: adminToken,
          json: { node_type: 1, name, ...(syncConfig ? { sync_config: syncConfig } : {}) },
        },
      );
      if (response.status !== 200) throw new Error(`addChild failed: ${JSON.stringify(response.body)}`);
      return response.body.data;
    },
    async close() {
      await parent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
