import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { verifyPassword } from '../../auth/secrets.js';
import { CascadeError } from '../../errors/cascade-error.js';
import { ok } from '../envelope.js';
import { closed } from '../schemas.js';
import { withHidden } from '../plugins/validation.js';
import type { RouteOptions } from '../schemas.js';

const LoginBody = closed({
  username: Type.String({ minLength: 1, maxLength: 191 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

/** POST /auth/login: JSON or form (the original web UI posts a form). */
export async function loginRoutes(app: FastifyInstance, { hidden }: RouteOptions): Promise<void> {
  // Form bodies are parsed inside this plugin only: everywhere else a form is 415, not a second way in.
  await app.register(formbody);
  app.post<{ Body: { username: string; password: string } }>(
    '/login',
    { schema: withHidden({ tags: ['auth'], summary: 'Log in and get a JWT', body: LoginBody }, hidden) },
    async (request, reply) => {
      const { store, jwt, loginLimiter, config } = app.services;
      const { username, password } = request.body;
      const wait = loginLimiter.retryAfterSeconds(username, request.ip);
      if (wait > 0) {
        throw new CascadeError('RATE_LIMITED', `Too many failed logins; try again in ${wait} s.`, { headers: { 'retry-after': String(wait) } });
      }
      const user = await store.users.findByUsername(username);
      const valid = user !== undefined && Number(user.is_active) === 1 && (await verifyPassword(password, user.password_hash));
      if (!user || !valid) {
        loginLimiter.recordFailure(username, request.ip);
        throw new CascadeError('UNAUTHENTICATED', 'Wrong username or password.');
      }
      loginLimiter.recordSuccess(username, request.ip);
      const ttl = config.token_expire_minutes * 60;
      const { token, expiresAt } = await jwt.sign({ id: user.id, username: user.username, role: user.role as 'admin' | 'viewer' }, ttl);
      void reply.header('cache-control', 'no-store');
      return ok(
        {
          access_token: token,
          token_type: 'bearer',
          expires_in: ttl,
          expires_at: new Date(expiresAt * 1000).toISOString(),
          user: { id: user.id, username: user.username, role: user.role },
        },
        'Logged in.',
      );
    },
  );
}
