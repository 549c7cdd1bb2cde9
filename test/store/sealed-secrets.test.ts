import { afterAll, beforeAll, expect, it } from 'vitest';
import { isSealed } from '../../src/auth/secret-box.js';
import { CascadeError } from '../../src/errors/cascade-error.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../helpers/databases.js';
import { openTestStore } from '../helpers/store.js';
import { databaseOf } from '../../src/store/store.js';

describeEachStore('webhook secrets and notify keys at rest', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(await dialect.createDatabase(), {
      'secrets.key': 'a-secrets-key-of-at-least-32-characters!',
    });
  });
  afterAll(async () => store?.close());

  const rawSecret = async (id: string): Promise<string> =>
    (
      await databaseOf(store)
        .selectFrom('message_tasks')
        .select('webhook_secret')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).webhook_secret;

  it('keeps a webhook secret sealed, shows it once, and opens it only for its own task', async () => {
    // The longest secret the API accepts, with multi-byte characters: the sealed form must fit the column.
    const long = '密'.repeat(250) + 'k'.repeat(250);
    const created = await store.tasks.create({
      name: 'signed',
      message_type: 1,
      web_hook_url: 'http://127.0.0.1:1/hook',
      webhook_secret: long,
    });
    expect(created.webhook_secret).toBe(long);
    const stored = await rawSecret(created.id);
    expect(isSealed(stored)).toBe(true);
    expect(stored).not.toContain('kkkk');
    expect(await store.tasks.webhookSecret(await store.tasks.get(created.id))).toBe(long);
    expect(store.tasks.view(await store.tasks.get(created.id))).not.toHaveProperty('webhook_secret');

    const other = await store.tasks.create({ name: 'other', message_type: 1, web_hook_url: 'http://127.0.0.1:1/hook' });
    const copied = { id: other.id, webhookSecret: stored };
    await expect(store.tasks.webhookSecret(copied)).rejects.toThrow(CascadeError);
  });

  it('generates a sealed secret for a webhook task and for a task that becomes one, and seals one set by update', async () => {
    const generated = await store.tasks.create({
      name: 'generated',
      message_type: 1,
      web_hook_url: 'http://127.0.0.1:1/hook',
    });
    expect(generated.webhook_secret).toMatch(/^\S{40,}$/);
    expect(await store.tasks.webhookSecret(await store.tasks.get(generated.id))).toBe(generated.webhook_secret);

    const plain = await store.tasks.create({ name: 'becomes a webhook', message_type: 0 });
    const turned = await store.tasks.update(plain.id, { message_type: 1 });
    expect(turned.webhook_secret).toMatch(/^\S{40,}$/);
    expect(isSealed(await rawSecret(plain.id))).toBe(true);

    const updated = await store.tasks.update(plain.id, { webhook_secret: 'SECdingtalk-secret' });
    expect(updated.webhook_secret).toBe('SECdingtalk-secret');
    expect(await store.tasks.webhookSecret(await store.tasks.get(plain.id))).toBe('SECdingtalk-secret');
  });

  it('seals plain secrets an older version wrote, once, and they still open to the same value', async () => {
    const task = await store.tasks.create({ name: 'legacy', message_type: 0 });
    await databaseOf(store)
      .updateTable('message_tasks')
      .set({ webhook_secret: 'legacy-plain-secret' })
      .where('id', '=', task.id)
      .execute();
    const { node } = await store.nodes.create({ node_type: 1, name: 'legacy-child' });
    await databaseOf(store)
      .updateTable('nodes')
      .set({ notify_key: 'legacy-plain-notify-key', api_url: 'http://127.0.0.1:1' })
      .where('id', '=', node.id)
      .execute();
    // Before sealing, the plain values are used as they are.
    expect(await store.tasks.webhookSecret(await store.tasks.get(task.id))).toBe('legacy-plain-secret');

    expect(await store.tasks.sealLegacySecrets()).toBeGreaterThanOrEqual(1);
    expect(await store.nodes.sealLegacyNotifyKeys()).toBeGreaterThanOrEqual(1);
    expect(isSealed(await rawSecret(task.id))).toBe(true);
    const notifyKey = (
      await databaseOf(store)
        .selectFrom('nodes')
        .select('notify_key')
        .where('id', '=', node.id)
        .executeTakeFirstOrThrow()
    ).notify_key;
    expect(isSealed(notifyKey ?? '')).toBe(true);

    expect(await store.tasks.webhookSecret(await store.tasks.get(task.id))).toBe('legacy-plain-secret');
    const targets = await store.nodes.notifyTargets([node.id]);
    expect(targets.map((t) => t.notify_key)).toEqual(['legacy-plain-notify-key']);
    // Nothing is left to seal: a second parent starting does nothing.
    expect(await store.tasks.sealLegacySecrets()).toBe(0);
    expect(await store.nodes.sealLegacyNotifyKeys()).toBe(0);
  });
});
