import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signedAuthorization } from '../../src/auth/request-signature.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { openTestStore } from '../helpers/store.js';
import { waitFor } from '../helpers/wait.js';
import { allFinal, expectedArticleIds, startChild, startCluster, stopEverything, storedArticles } from './harness.js';
import { spawnParent, stopAllParents, type ParentProcess } from './parent-processes.js';

describeEachStore(
  'signed requests: a nonce is accepted once across two parent processes on one database',
  (dialect) => {
    let dir: string;
    let store: Store;
    let a: ParentProcess;
    let b: ParentProcess;
    let child: { id: string; api_key: string; api_secret: string };
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cascade-signed-'));
      const url = await dialect.createDatabase();
      store = await openTestStore(url);
      // Created through the store: both parents read the same secrets key from the shared settings.
      const created = await store.nodes.create({ node_type: 1, name: 'replayed' });
      if (!created.credentials) throw new Error('a child must get credentials');
      child = { id: created.node.id, ...created.credentials };
      [a, b] = await Promise.all([spawnParent(url, dir, 'parent-a'), spawnParent(url, dir, 'parent-b')]);
    });
    afterAll(async () => {
      await stopAllParents();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the same signed request sent to both parents at once is served by exactly one', async () => {
      for (let round = 0; round < 5; round++) {
        const body = JSON.stringify({ hostname: `round-${round}` });
        const authorization = signedAuthorization(
          child.api_key,
          child.api_secret,
          'POST',
          '/api/v1/cascade/heartbeat',
          body,
        );
        const send = (url: string) =>
          api(url, '/api/v1/cascade/heartbeat', {
            rawBody: body,
            contentType: 'application/json',
            headers: { authorization },
          });
        const answers = await Promise.all([send(a.url), send(b.url)]);
        expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
        expect(answers.find((r) => r.status === 401)?.body.error).toBe('NONCE_REUSED');
        // Sent again later, to either parent: still refused.
        const late = await send(round % 2 === 0 ? a.url : b.url);
        expect(late.body.error).toBe('NONCE_REUSED');
      }
    });
  },
  { only: ['postgres', 'mysql'] },
);

describe("Cascade's child in signed mode", () => {
  afterEach(stopEverything);

  it('runs whole allocations for a node that refuses the plain header', async () => {
    const local = await startCluster({ 'dispatch.max_attempts': 1 });
    const feedIds = await local.addSampleFeeds(['rss2-tech-news.xml', 'atom-release-notes.atom']);
    const task = await local.createTask('signed', feedIds);
    const node = await local.api.call<{ id: string; api_key: string; api_secret: string; require_signed: boolean }>(
      'POST',
      '/api/v1/cascade/nodes',
      {
        node_type: 1,
        name: 'signed-child',
        require_signed: true,
        sync_config: { max_capacity: 4 },
      },
    );
    expect(node.require_signed).toBe(true);
    // The plain header is refused for this node, so every call the child makes below is a signed one.
    const plain = await api(local.parent.url, '/api/v1/cascade/heartbeat', { aksk: node, json: {} });
    expect(plain.body.error).toBe('SIGNED_REQUEST_REQUIRED');
    startChild(local, node, 'signed-child', { maxConcurrency: 4, cascade: { request_signing: 'always' } });
    await waitFor('the signed child online', async () => {
      const list = await local.api.listAll<{ name: string; status: number }>('/api/v1/cascade/nodes?node_type=1');
      return list.some((n) => n.name === 'signed-child' && n.status === 1) ? true : undefined;
    });
    const dispatch = await local.dispatch(task.id);
    const rows = await waitFor('every allocation final', () => allFinal(local, dispatch.schedule_run_id));
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'completed'));
    expect(rows.every((r) => r.node_name === 'signed-child')).toBe(true);
    const expected = expectedArticleIds(local, feedIds);
    expect(new Set((await storedArticles(local)).map((x) => x.id))).toEqual(expected);
  });
});
