import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

export class SettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Replaces the value of a setting that exists; false when there was none. */
  async replace(key: string, value: string): Promise<boolean> {
    const result = await this.db.updateTable('settings').set({ value }).where('key', '=', key).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Stores `value` unless the key already has one; returns what is stored afterwards (first writer wins). */
  async getOrCreate(key: string, create: () => string): Promise<string> {
    const existing = await this.get(key);
    if (existing !== undefined) return existing;
    try {
      await this.db.insertInto('settings').values({ key, value: create() }).execute();
    } catch {
      // Another process inserted it first; fall through and read the winner.
    }
    const stored = await this.get(key);
    if (stored === undefined) throw new Error(`setting ${key} could not be stored`);
    return stored;
  }
}
