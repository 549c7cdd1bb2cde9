import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';
import { databaseOf } from '../../src/store/store.js';

describeEachStore('nodes store: secrets sealed at rest and request nonces', (dialect) => {
  let url: string;
  let store: Store;
  beforeAll(async () => {
    url = await dialect.createDatabase();
    store = await openTestStore(url);
  });
  afterAll(async () => store?.close());

  it('keeps the API secret and the notify key sealed, and opens them for the same node only', async () => {
    const { node, credentials } = await store.nodes.create({
      node_type: 1,
      name: 'sealed',
      api_url: 'http://127.0.0.1:9',
    });
    if (!credentials) throw new Error('a child must get credentials');
    const row = await databaseOf(store)
      .selectFrom('nodes')
      .selectAll()
      .where('id', '=', node.id)
      .executeTakeFirstOrThrow();
    for (const column of [row.api_secret_sealed, row.notify_key]) {
      expect(column).toMatch(/^v1\./);
      expect(column).not.toContain(credentials.api_secret);
      expect(column).not.toContain(credentials.notify_key);
    }
    expect((await store.nodes.forSignedRequest(credentials.api_key))?.secret).toBe(credentials.api_secret);
    expect((await store.nodes.notifyTargets([node.id]))[0]?.notify_key).toBe(credentials.notify_key);
    // A sealed secret copied onto another row does not open there (the row id is bound into the seal).
    const other = await store.nodes.create({ node_type: 1, name: 'other' });
    await databaseOf(store)
      .updateTable('nodes')
      .set({ api_secret_sealed: row.api_secret_sealed })
      .where('id', '=', other.node.id)
      .execute();
    expect((await store.nodes.forSignedRequest(other.credentials?.api_key ?? ''))?.secret).toBeUndefined();
  });

  it('a node from before migration 010 keeps its plain notify key and gets a sealed secret at rotation', async () => {
    const { node } = await store.nodes.create({ node_type: 1, name: 'legacy', api_url: 'http://127.0.0.1:9' });
    await databaseOf(store)
      .updateTable('nodes')
      .set({ api_secret_sealed: null, notify_key: 'plainNotifyKeyFromBefore_0123456789abcdef' })
      .where('id', '=', node.id)
      .execute();
    expect((await store.nodes.notifyTargets([node.id]))[0]?.notify_key).toBe(
      'plainNotifyKeyFromBefore_0123456789abcdef',
    );
    const before = await store.nodes.get(node.id);
    expect((await store.nodes.forSignedRequest(before.apiKey ?? ''))?.secret).toBeUndefined();
    expect(store.nodes.view(before).signing_available).toBe(false);
    const { credentials, node: view } = await store.nodes.rotateCredentials(node.id);
    expect(view.signing_available).toBe(true);
    expect((await store.nodes.forSignedRequest(credentials.api_key))?.secret).toBe(credentials.api_secret);
  });

  it('accepts a nonce once per node, also when two stores (two parents) race for it', async () => {
    const a = await store.nodes.create({ node_type: 1, name: 'nonce-a' });
    const b = await store.nodes.create({ node_type: 1, name: 'nonce-b' });
    const now = Date.now();
    expect(await store.nodes.rememberNonce(a.node.id, 'nonce-0123456789abcdef', now + 300_000, now)).toBe(true);
    expect(await store.nodes.rememberNonce(a.node.id, 'nonce-0123456789abcdef', now + 300_000, now)).toBe(false);
    expect(await store.nodes.rememberNonce(b.node.id, 'nonce-0123456789abcdef', now + 300_000, now)).toBe(true);
    const second = await openTestStore(url);
    try {
      for (let i = 0; i < 10; i++) {
        const nonce = `race-${i}-0123456789abcdef`;
        const results = await Promise.all([
          store.nodes.rememberNonce(a.node.id, nonce, now + 300_000, now),
          second.nodes.rememberNonce(a.node.id, nonce, now + 300_000, now),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await second.close();
    }
  });
});
