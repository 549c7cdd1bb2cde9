import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeView } from '../../src/store/nodes.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { seedFeeds, seedTask } from '../helpers/seed.js';
import { runCascade, type CliResult } from './cli-process.js';
import { databaseOf } from '../../src/store/store.js';

type Added = Omit<NodeView, 'api_key'> & {
  api_key: string;
  api_secret: string;
  notify_key: string;
  child_config_yaml: string;
  config_file?: string;
};
type Urls = { rss: string; atom: string; json: string; public: boolean };

/** Each CLI run is a new Node process, slow on a busy machine; these tests make a dozen each. */
const SLOW = { timeout: 900_000 };

/**
 * `cascade node …` and `cascade feed url` against a real parent listening on 127.0.0.1: through the local store (the
 * parent's routes in the CLI's own process, on the same database file) and through `--url` with a token.
 */
describe.each(['local', 'remote'] as const)('cascade node and feed url (%s)', (mode) => {
  let t: TestParent;
  let cli: (...args: string[]) => Promise<CliResult>;
  /** The parent address a child config and a subscription URL name: --url, or the configured listen address. */
  let parentUrl: string;
  beforeAll(async () => {
    t = await startTestParent({ overrides: { 'delivery.enabled': false } });
    const where = mode === 'remote' ? ['--url', t.url, '--token', t.adminToken] : [];
    // Locally the listen address is the config's; it is the running parent's, so its URLs are the ones it serves.
    const env: Record<string, string> =
      mode === 'local' ? { DATABASE_URL: t.config.database.url, HOST: '127.0.0.1', PORT: new URL(t.url).port } : {};
    cli = (...args) => runCascade([...args, ...where], { cwd: t.dir, env });
    parentUrl = t.url;
  });
  afterAll(async () => t?.close());

  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, '--json');
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
  const heartbeat = async (pair: { api_key: string; api_secret: string }) =>
    (await api(t.url, '/api/v1/cascade/heartbeat', { aksk: pair, json: { hostname: 'child-host' } })).status;
  const storedNode = (name: string) =>
    databaseOf(t.parent.services.store).selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst();

  it(
    'node add, list, show, disable, enable, edit, rotate and remove; the parent’s own record is refused',
    SLOW,
    async () => {
      // What `cascade init` creates: the parent's own record, here the only one.
      expect(
        (await api(t.url, '/api/v1/cascade/nodes', { token: t.adminToken, json: { node_type: 0, name: 'the-parent' } }))
          .status,
      ).toBe(200);
      const added = await json<Added>(
        'node',
        'add',
        'child-x',
        '--capacity',
        '4',
        '--api-url',
        'http://127.0.0.1:9',
        '--desc',
        'first child',
      );
      expect(added).toMatchObject({
        name: 'child-x',
        node_type: 1,
        description: 'first child',
        api_url: 'http://127.0.0.1:9',
        sync_config: { max_capacity: 4 },
      });
      expect(added.api_secret).toMatch(/^CS[A-Za-z0-9_-]{32}$/);
      const block = parseYaml(added.child_config_yaml) as { cascade: Record<string, unknown> };
      expect(block.cascade).toMatchObject({
        node_type: 'child',
        parent_api_url: parentUrl,
        api_key: added.api_key,
        api_secret: added.api_secret,
        notify_key: added.notify_key,
        data_dir: './data/child-x',
      });
      expect(await heartbeat(added)).toBe(200);

      const [listed, shown] = await Promise.all([
        json<NodeView[]>('node', 'list'),
        json<NodeView>('node', 'show', 'child-x'),
      ]);
      expect(listed.map((n) => [n.name, n.node_type])).toEqual([
        ['the-parent', 0],
        ['child-x', 1],
      ]);
      expect(shown).toMatchObject({ id: added.id, name: 'child-x', api_key: added.api_key, status: 1 });
      for (const view of [JSON.stringify(listed), JSON.stringify(shown)]) expect(view).not.toContain(added.api_secret);

      expect(await json<NodeView>('node', 'disable', 'child-x')).toMatchObject({
        id: added.id,
        is_active: false,
        status: 2,
      });
      expect(await heartbeat(added)).toBe(401);
      expect(await json<NodeView>('node', 'enable', added.id)).toMatchObject({ is_active: true });
      expect(await json<NodeView>('node', 'edit', 'child-x', '--require-signed')).toMatchObject({
        require_signed: true,
      });
      expect(Number((await storedNode('child-x'))?.require_signed)).toBe(1);
      expect(await heartbeat(added)).toBe(401);

      const rotated = await json<Added>('node', 'rotate', 'child-x');
      expect(rotated.api_key).not.toBe(added.api_key);
      expect(rotated.api_secret).toMatch(/^CS[A-Za-z0-9_-]{32}$/);
      expect((await storedNode('child-x'))?.api_key).toBe(rotated.api_key);

      expect(await json<{ removed: boolean; id: string; name: string }>('node', 'remove', 'child-x')).toEqual({
        removed: true,
        id: added.id,
        name: 'child-x',
      });
      expect(await storedNode('child-x')).toBeUndefined();
      const [gone, parentRecord] = await Promise.all([
        cli('node', 'show', 'child-x'),
        cli('node', 'remove', listed[0]!.id),
      ]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain("Node 'child-x' does not exist");
      expect(parentRecord.code).toBe(1);
      expect(parentRecord.stderr).toContain('only parent node record');
      expect(await t.parent.services.store.nodes.get(listed[0]!.id)).toBeDefined();
    },
  );

  it(
    'node add --write-config refuses an existing file before creating the node, and leaves no file when creation fails',
    SLOW,
    async () => {
      const taken = join(t.dir, `taken-${mode}.yaml`);
      writeFileSync(taken, 'kept\n');
      const fresh = join(t.dir, `fresh-${mode}.yaml`);
      const [refused, duplicate] = await Promise.all([
        cli('node', 'add', 'never-made', '--write-config', taken),
        cli('node', 'add', 'child-x2', '--json'),
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('already exists');
      expect(readFileSync(taken, 'utf8')).toBe('kept\n');
      expect(await storedNode('never-made')).toBeUndefined();
      expect(duplicate.code, duplicate.stderr).toBe(0);

      const clash = await cli('node', 'add', 'child-x2', '--write-config', fresh);
      expect(clash.code).toBe(1);
      expect(existsSync(fresh), 'a node that was not created leaves no config file').toBe(false);

      const written = await json<Added>('node', 'add', 'child-x3', '--write-config', fresh);
      expect(written.config_file).toBe(fresh);
      expect(statSync(fresh).mode & 0o777).toBe(0o600);
      expect(readFileSync(fresh, 'utf8')).toBe(written.child_config_yaml);
      expect(
        (parseYaml(written.child_config_yaml) as { cascade: { parent_api_url: string } }).cascade.parent_api_url,
      ).toBe(parentUrl);
      const overridden = await json<Added>('node', 'add', 'child-x4', '--parent-url', 'http://parent.example:8001');
      expect(overridden.child_config_yaml).toContain('parent_api_url: "http://parent.example:8001"');
    },
  );

  it(
    'feed url prints URLs the parent serves, for a feed, a task and another user; unknown ones exit 1',
    SLOW,
    async () => {
      const store = t.parent.services.store;
      const [feedId] = await seedFeeds(store, 1, `MP_URL_${mode.toUpperCase()}_`);
      const taskId = await seedTask(store, [feedId!]);
      const [atom, merged, everything] = await Promise.all([
        cli('feed', 'url', feedId!, '--format', 'atom'),
        json<Urls>('feed', 'url', taskId, '--task'),
        json<Urls>('feed', 'url', 'all'),
      ]);
      expect(atom.code, atom.stderr).toBe(0);
      expect(atom.stdout.trim()).toMatch(new RegExp(`^${parentUrl}/feeds/${feedId}\\.atom\\?token=`));
      expect((await fetch(atom.stdout.trim())).status).toBe(200);
      expect(merged.json).toMatch(new RegExp(`^${parentUrl}/feeds/tasks/${taskId}\\.json\\?token=`));
      expect((await fetch(merged.json)).status).toBe(200);
      expect(everything).toMatchObject({
        public: false,
        rss: expect.stringMatching(new RegExp(`^${parentUrl}/feeds/all\\.rss\\?token=`)),
      });

      await api(t.url, '/api/v1/users', {
        token: t.adminToken,
        json: { username: `reader-${mode}`, password: 'reader-password-1', role: 'viewer' },
      });
      const [theirs, unknownFeed, unknownUser, badFormat] = await Promise.all([
        json<Urls>('feed', 'url', 'all', '--user', `reader-${mode}`),
        cli('feed', 'url', 'MP_UNKNOWN'),
        cli('feed', 'url', 'all', '--user', 'nobody'),
        cli('feed', 'url', 'all', '--format', 'html'),
      ]);
      expect(new URL(theirs.rss).searchParams.get('token')).not.toBe(new URL(everything.rss).searchParams.get('token'));
      expect((await fetch(theirs.rss)).status).toBe(200);
      expect(unknownFeed.code).toBe(1);
      expect(unknownFeed.stderr).toContain("Feed 'MP_UNKNOWN' does not exist");
      expect(unknownUser.code).toBe(1);
      expect(unknownUser.stderr).toContain("User 'nobody' does not exist or is disabled");
      expect(badFormat.code).toBe(2);
    },
  );
});
