import type { LoginLimiter } from '../auth/login-limiter.js';
import type { JwtSigner } from '../auth/jwt.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';

/** Everything a route needs, built once in src/parent/parent.ts and decorated onto the app. */
export type ParentServices = {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly jwt: JwtSigner;
  readonly loginLimiter: LoginLimiter;
};
