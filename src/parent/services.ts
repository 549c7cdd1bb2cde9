import type { LoginLimiter } from '../auth/login-limiter.js';
import type { JwtSigner } from '../auth/jwt.js';
import type { Config } from '../config/schema.js';
import type { Claimer } from '../dispatch/claimer.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Scheduler } from '../dispatch/scheduler.js';
import type { Sweeper } from '../dispatch/sweeper.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { ConsoleEventFeed } from './events/console-events.js';
import type { EventTickets } from './events/event-tickets.js';

/** Everything a route needs, built once in src/parent/parent.ts and decorated onto the app. */
export type ParentServices = {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly jwt: JwtSigner;
  readonly loginLimiter: LoginLimiter;
  readonly metrics: Metrics;
  readonly dispatcher: Dispatcher;
  readonly claimer: Claimer;
  readonly sweeper: Sweeper;
  readonly scheduler: Scheduler;
  /** The web console's live feed and the tickets that open it. */
  readonly events: ConsoleEventFeed;
  readonly eventTickets: EventTickets;
};
