import type { LoginLimiter } from '../auth/login-limiter.js';
import type { NodeAuthFailures } from '../auth/node-auth-failures.js';
import type { PasswordChecker } from '../auth/password-checker.js';
import type { JwtSigner } from '../auth/jwt.js';
import type { Config } from '../config/schema.js';
import type { DeliverySender } from '../delivery/sender.js';
import type { Claimer } from '../dispatch/claimer.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Scheduler } from '../dispatch/scheduler.js';
import type { Sweeper } from '../dispatch/sweeper.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GuardedFetch } from '../net/guarded-fetch.js';
import type { Store } from '../store/store.js';
import type { Readiness } from './readiness.js';
import type { ConsoleEventFeed } from './events/console-events.js';
import type { EventTickets } from './events/event-tickets.js';

/** Everything a route needs, built once in src/parent/parent.ts and decorated onto the app. */
export type ParentServices = {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly jwt: JwtSigner;
  /** The key feed read tokens are derived from (src/auth/feed-token.ts): the JWT signing key. */
  readonly feedTokenKey: string;
  readonly loginLimiter: LoginLimiter;
  readonly passwords: PasswordChecker;
  readonly nodeAuthFailures: NodeAuthFailures;
  readonly metrics: Metrics;
  readonly dispatcher: Dispatcher;
  readonly claimer: Claimer;
  readonly sweeper: Sweeper;
  readonly scheduler: Scheduler;
  readonly readiness: Readiness;
  /** Every request the parent makes to an address it was given (test-connection, webhooks, notify): `network` policy. */
  readonly outboundFetch: GuardedFetch;
  readonly deliverySender: DeliverySender;
  /** The web console's live feed and the tickets that open it. */
  readonly events: ConsoleEventFeed;
  readonly eventTickets: EventTickets;
};
