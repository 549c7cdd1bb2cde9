import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { UserRole } from '../auth/jwt.js';
import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { Database, UserTable } from './tables.js';
import { iso } from './time.js';
import { StoredFlag } from './stored-flag.js';

/** A user as the store hands it out: the role as its union, the active flag as a boolean, times in epoch ms. */
export type UserRecord = {
  id: string;
  username: string;
  passwordHash: string;
  role: UserRole;
  isActive: boolean;
  /** Moves on with every password or active-flag change; tokens naming an older generation are refused. */
  tokenGeneration: number;
  /** Bumped to rotate the user's feed read token; subscription URLs made before stop working. */
  feedTokenVersion: number;
  createdAtMs: number;
  updatedAtMs: number;
};

/** The only place a users row is read. */
function toUserRecord(row: UserTable): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role as UserRole,
    isActive: Number(row.is_active) === StoredFlag.on,
    tokenGeneration: Number(row.token_generation),
    feedTokenVersion: Number(row.feed_token_version),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

export type UserView = {
  id: string;
  username: string;
  role: UserRole;
  is_active: boolean;
  created_at: string | null;
  updated_at: string | null;
};

export function toUserView(user: UserRecord): UserView {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    is_active: user.isActive,
    created_at: iso(user.createdAtMs),
    updated_at: iso(user.updatedAtMs),
  };
}

export type UserPatch = { passwordHash?: string; role?: UserRole; isActive?: boolean };

export class UsersStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** Lock the active admin rows while checking "is another admin left" (PostgreSQL, MySQL); SQLite serialises writers. */
    private readonly rowLocks = false,
  ) {}

  async create(input: { username: string; passwordHash: string; role: UserRole }): Promise<UserView> {
    const now = Date.now();
    const row: UserTable = {
      id: randomUUID(),
      username: input.username,
      password_hash: input.passwordHash,
      role: input.role,
      is_active: 1,
      token_generation: 0,
      feed_token_version: 0,
      created_at: now,
      updated_at: now,
    };
    if (await this.findByUsername(input.username))
      throw new CascadeError('CONFLICT', `A user named '${input.username}' already exists.`);
    await this.db.insertInto('users').values(row).execute();
    return toUserView(toUserRecord(row));
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUserRecord(row);
  }

  async get(id: string): Promise<UserRecord> {
    return toUserRecord(await this.getRow(id));
  }

  private async getRow(id: string): Promise<UserTable> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('User', id);
    return row;
  }

  /** The user, when it exists and is active (a feed token of a disabled user reads nothing). */
  async findActive(id: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('is_active', '=', StoredFlag.on)
      .executeTakeFirst();
    return row && toUserRecord(row);
  }

  /** Bumps the user's feed token version, which turns away every subscription URL made before; returns the new version. */
  async rotateFeedToken(id: string): Promise<number> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ feed_token_version: eb('feed_token_version', '+', 1), updated_at: Date.now() }))
      .where('id', '=', id)
      .execute();
    return (await this.get(id)).feedTokenVersion;
  }

  async list(limit: number, offset: number): Promise<{ list: UserView[]; total: number }> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .orderBy('username')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { list: rows.map((row) => toUserView(toUserRecord(row))), total: Number(total.n) };
  }

  async update(id: string, patch: UserPatch): Promise<UserView> {
    const current = await this.getRow(id);
    const values = patchValues(current, patch);
    await this.db.updateTable('users').set(values).where('id', '=', id).execute();
    return toUserView(toUserRecord({ ...current, ...values }));
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('User', id);
  }

  /** The oldest active admin: whom the CLI acts as on the local store (cli/api-local.ts). */
  async firstActiveAdmin(): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'admin')
      .where('is_active', '=', StoredFlag.on)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row && toUserRecord(row);
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('is_active', '=', StoredFlag.on)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Updates or deletes a user unless that would leave no active admin. The check and the write share one
   * transaction that locks every active admin row, so two admins demoting each other at once cannot both succeed.
   */
  async changeKeepingAnAdmin(id: string, change: { remove: true } | { patch: UserPatch }): Promise<UserView | null> {
    return this.db.transaction().execute(async (trx) => {
      const target = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!target) throw notFound('User', id);
      const removesAdmin = 'remove' in change || change.patch.role === 'viewer' || change.patch.isActive === false;
      if (removesAdmin && target.role === 'admin' && Number(target.is_active) === StoredFlag.on) {
        let admins = trx
          .selectFrom('users')
          .select('id')
          .where('role', '=', 'admin')
          .where('is_active', '=', StoredFlag.on);
        if (this.rowLocks) admins = admins.forUpdate();
        const others = (await admins.execute()).filter((row) => row.id !== id);
        if (others.length === 0) {
          const action = 'remove' in change ? 'delete' : change.patch.isActive === false ? 'disable' : 'demote';
          throw new CascadeError(
            'CONFLICT',
            `Cannot ${action} '${target.username}': it is the last active admin. Make another user an active admin first.`,
          );
        }
      }
      if ('remove' in change) {
        await trx.deleteFrom('users').where('id', '=', id).execute();
        return null;
      }
      const values = patchValues(target, change.patch);
      await trx.updateTable('users').set(values).where('id', '=', id).execute();
      return toUserView(toUserRecord({ ...target, ...values }));
    });
  }
}

/**
 * The columns a patch writes. A new password or a change of the active flag (either way) moves the token
 * generation on, so tokens issued before no longer authenticate: re-enabling a user does not revive them.
 */
function patchValues(current: UserTable, patch: UserPatch): Partial<UserTable> {
  const values: Partial<UserTable> = { updated_at: Date.now() };
  if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
  if (patch.role !== undefined) values.role = patch.role;
  if (patch.isActive !== undefined) values.is_active = patch.isActive ? 1 : 0;
  const activeChanges = values.is_active !== undefined && values.is_active !== Number(current.is_active);
  if (patch.passwordHash !== undefined || activeChanges) values.token_generation = Number(current.token_generation) + 1;
  return values;
}
