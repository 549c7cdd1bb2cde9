import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../../auth/secrets.js';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_MAX_LENGTH,
  USERNAME_PATTERN,
} from '../../../domain/user-rules.js';
import { toUserView } from '../../../store/users.js';
import { ok, page } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed, IdParams, Paging } from '../../schemas.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('viewer')], {
  description: 'admin manages; viewer only reads.',
});
const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `At least ${PASSWORD_MIN_LENGTH} characters.`,
});

const CreateUser = closed({
  username: Type.String({
    minLength: 1,
    maxLength: USERNAME_MAX_LENGTH,
    pattern: USERNAME_PATTERN,
    description: 'No spaces.',
  }),
  password: Password,
  role: Role,
});
const UpdateUser = closed({
  password: Type.Optional(Password),
  role: Type.Optional(Role),
  is_active: Type.Optional(Type.Boolean()),
});
const ListQuery = closed({ ...Paging });

/** User administration at /users, admin only. Views never carry the password hash. */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  const tags = ['users'];
  const security = [{ bearer: [] }];
  const adminOnly = requireUser('admin');

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/users',
    { schema: { tags, security, summary: 'List users', querystring: ListQuery }, onRequest: adminOnly },
    async (request) => {
      const { limit, offset } = request.query;
      const { list, total } = await store.users.list(limit, offset);
      return ok(page(list, total, limit, offset));
    },
  );

  app.post<{ Body: Static<typeof CreateUser> }>(
    '/users',
    { schema: { tags, security, summary: 'Create a user', body: CreateUser }, onRequest: adminOnly },
    async (request) => {
      const { username, password, role } = request.body;
      return ok(
        await store.users.create({ username, passwordHash: await hashPassword(password), role }),
        'User created.',
      );
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/users/:id',
    { schema: { tags, security, summary: 'Show a user', params: IdParams }, onRequest: adminOnly },
    async (request) => ok(toUserView(await store.users.get(request.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateUser> }>(
    '/users/:id',
    {
      schema: { tags, security, summary: 'Change a password, role or active flag', params: IdParams, body: UpdateUser },
      onRequest: adminOnly,
    },
    async (request) => {
      const { password, role, is_active } = request.body;
      // Someone must always be able to administer the parent: the store refuses to demote or disable the last admin.
      const patch = {
        ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
        ...(role !== undefined ? { role } : {}),
        ...(is_active !== undefined ? { isActive: is_active } : {}),
      };
      return ok(await store.users.changeKeepingAnAdmin(request.params.id, { patch }), 'User updated.');
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/users/:id',
    { schema: { tags, security, summary: 'Delete a user', params: IdParams }, onRequest: adminOnly },
    async (request) => {
      await store.users.changeKeepingAnAdmin(request.params.id, { remove: true });
      return ok(null, 'User deleted.');
    },
  );
}
