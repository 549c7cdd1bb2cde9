import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CascadeError } from '../../errors/cascade-error.js';
import { ok } from '../envelope.js';
import { closed } from '../schemas.js';

const LoginBody = closed({
  username: Type.String({ minLength: 1, maxLength: 191 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

/** POST /auth/login: JSON or form (the original web UI posts a form). */
export async function loginRoutes(app: FastifyInstance): Promise<void> {
  // Form bodies are parsed inside this plugin only: everywhere else a form is 415, not a second way in.
  await app.register(formbody);
  app.post<{ Body: { username: string; password: string } }>(
    '/login',
    { schema: { tags: ['auth'], summary: 'Log in and get a JWT', body: LoginBody } },
    async (request, reply) => {
      const { store, jwt, loginLimiter, passwords, config } = app.services;
      const { username, password } = request.body;
      const lockout = loginLimiter.lockout(username, request.ip);
      if (lockout) {
        const wait = lockout.retryAfterSeconds;
        throw new CascadeError('RATE_LIMITED', `Too many failed logins; try again in ${wait} s.`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      const user = await store.users.findByUsername(username);
      const valid = await passwords.matches(
        password,
        user && { password_hash: user.passwordHash, active: user.isActive },
      );
      if (!user || !valid) {
        const started = loginLimiter.recordFailure(username, request.ip);
        if (started)
          request.log.warn(
            { username, client_ip: request.ip, scope: started.scope, retry_after_seconds: started.retryAfterSeconds },
            'login lockout started',
          );
        throw new CascadeError('UNAUTHENTICATED', 'Wrong username or password.');
      }
      loginLimiter.recordSuccess(username, request.ip);
      const ttl = config.token_expire_minutes * 60;
      const { token, expiresAt } = await jwt.sign(
        {
          id: user.id,
          username: user.username,
          role: user.role,
          tokenGeneration: user.tokenGeneration,
        },
        ttl,
      );
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
