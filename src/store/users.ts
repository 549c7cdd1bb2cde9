import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { UserRole } from '../auth/jwt.js';
import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { Database, UserTable } from './tables.js';
import { iso } from './time.js';

export type UserView = { id: string; username: string; role: UserRole; is_active: boolean; created_at: string | null; updated_at: string | null };

export function toUserView(row: UserTable): UserView {
  return {
    id: row.id,
    username: row.username,
    role: row.role as UserRole,
    is_active: Number(row.is_active) === 1,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export class UsersStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { username: string; passwordHash: string; role: UserRole }): Promise<UserView> {
    const now = Date.now();
    const row: UserTable = { id: randomUUID(), username: input.username, password_hash: input.passwordHash, role: input.role, is_active: 1, created_at: now, updated_at: now };
    if (await this.findByUsername(input.username)) throw new CascadeError('CONFLICT', `A user named '${input.username}' already exists.`);
    await this.db.insertInto('users').values(row).execute();
    return toUserView(row);
  }

  async findByUsername(username: string): Promise<UserTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async get(id: string): Promise<UserTable> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('User', id);
    return row;
  }

  async list(limit: number, offset: number): Promise<{ list: UserView[]; total: number }> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').limit(limit).offset(offset).execute();
    const total = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map(toUserView), total: Number(total.n) };
  }

  async update(id: string, patch: { passwordHash?: string; role?: UserRole; isActive?: boolean }): Promise<UserView> {
    const current = await this.get(id);
    const values: Partial<UserTable> = { updated_at: Date.now() };
    if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.isActive !== undefined) values.is_active = patch.isActive ? 1 : 0;
    await this.db.updateTable('users').set(values).where('id', '=', id).execute();
    return toUserView({ ...current, ...values });
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('User', id);
  }

  async countAdmins(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('is_active', '=', 1).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
