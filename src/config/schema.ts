import { Type, type Static, type TInteger } from '@sinclair/typebox';

/**
 * The one configuration schema. Every field carries its default and unit in its description, and
 * docs/configuration.md is generated from it (`npm run docs:config`). Parent-only and child-only settings share
 * one file because the original system used one config.yaml for both roles.
 */
const int = (description: string, def: number, min: number, max: number): TInteger =>
  Type.Integer({ description, default: def, minimum: min, maximum: max });

export const DatabaseSchema = Type.Object(
  {
    url: Type.String({
      description:
        'Store location. `sqlite:<path>` (default `sqlite:./data/cascade.db`), `sqlite::memory:`, ' +
        '`postgres://user@host:5432/db` or `mysql://user@host:3306/db`. Env: `DATABASE_URL`.',
      default: 'sqlite:./data/cascade.db',
      minLength: 1,
    }),
    pool_size: int('Connections kept open to PostgreSQL or MySQL (ignored for SQLite).', 10, 1, 200),
    statement_timeout_ms: int('Longest a single SQL statement may run, in milliseconds (0 = no limit).', 30000, 0, 600000),
    prepared_statements: Type.Boolean({
      description:
        'PostgreSQL: prepare each statement once per connection instead of planning it on every call. Turn off behind a ' +
        'pooler in transaction mode that does not track prepared statements (PgBouncer before 1.21). Env: `CASCADE_DB_PREPARED_STATEMENTS`.',
      default: true,
    }),
  },
  { additionalProperties: false, default: {} },
);

export const DispatchSchema = Type.Object(
  {
    feeds_per_allocation: int('Feeds grouped into one allocation. Env: `CASCADE_FEEDS_PER_ALLOCATION`.', 1, 1, 1000),
    lease_seconds: int('Lease a claim holds before the sweeper requeues it, in seconds. Env: `CASCADE_LEASE_SECONDS`.', 120, 1, 86400),
    sweep_interval_seconds: int('How often the sweeper looks for expired leases and offline nodes, in seconds. Env: `CASCADE_SWEEP_INTERVAL_SECONDS`.', 5, 1, 3600),
    retry_backoff_seconds: int('Base delay before a requeued attempt is claimable, doubled per attempt, in seconds. Env: `CASCADE_RETRY_BACKOFF_SECONDS`.', 10, 0, 86400),
    retry_backoff_max_seconds: int('Cap on the retry delay, in seconds.', 600, 0, 86400),
    max_attempts: int('Attempts per allocation before it ends `timeout` or `failed`. Env: `CASCADE_MAX_ATTEMPTS`.', 3, 1, 100),
    offline_after_seconds: int('A node without a heartbeat for this long is offline, in seconds. Env: `CASCADE_OFFLINE_AFTER_SECONDS`.', 180, 5, 86400),
  },
  { additionalProperties: false, default: {} },
);

export const SchedulerSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Run the cron scheduler in this parent process.', default: true }),
  },
  { additionalProperties: false, default: {} },
);

export const MetricsSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Serve Prometheus metrics at `/metrics`.', default: true }),
    token: Type.Optional(Type.String({ description: 'When set, `/metrics` requires `Authorization: Bearer <token>`.', minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
);

export const AuthSchema = Type.Object(
  {
    login_max_failures: int('Failed logins allowed per username and client address within the window before 429.', 5, 1, 1000),
    login_window_seconds: int('Window for counting failed logins, in seconds.', 300, 1, 86400),
  },
  { additionalProperties: false, default: {} },
);

export const DeliverySchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Run the delivery sender in this parent (every parent on one database may; each delivery is sent once).', default: true }),
    batch_seconds: int('New articles of one task within this many seconds go in one delivery.', 60, 0, 86400),
    max_articles: int('Most articles in one message; the rest go in following messages.', 20, 1, 500),
    max_attempts: int('Sends of one delivery before it ends `failed`.', 5, 1, 100),
    timeout_seconds: int('Longest wait for a receiver to answer one send, in seconds.', 10, 1, 600),
    lease_seconds: int('A `sending` delivery whose sender stopped answering is sent again after this many seconds; more than `timeout_seconds`.', 60, 2, 86400),
    retry_backoff_seconds: int('Base delay before a failed send is retried, doubled per attempt, in seconds (a longer `Retry-After` wins).', 10, 0, 86400),
    retry_backoff_max_seconds: int('Cap on the retry delay, in seconds.', 600, 0, 86400),
    poll_interval_ms: int('How often the sender looks for due deliveries, in milliseconds.', 1000, 50, 60000),
    concurrency: int('Deliveries one parent sends at once.', 4, 1, 100),
  },
  { additionalProperties: false, default: {} },
);

export const OutputSchema = Type.Object(
  {
    public: Type.Boolean({ description: 'Serve `/feeds/…` to anyone; when false a reader needs a user’s feed token as `?token=`.', default: false }),
    base_url: Type.Optional(
      Type.String({ description: 'Address readers use to reach this parent, for subscription URLs (default `http://<host>:<port>`).', pattern: '^https?://[^\\s]+$', maxLength: 1000 }),
    ),
    cache_seconds: int('`Cache-Control: max-age` of served feeds, in seconds.', 300, 0, 86400),
  },
  { additionalProperties: false, default: {} },
);

export const CascadeSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Cascade features on. Env: `CASCADE_ENABLED`.', default: true }),
    node_type: Type.Union([Type.Literal('parent'), Type.Literal('child')], {
      description: 'Role of this process. Env: `CASCADE_NODE_TYPE`.',
      default: 'parent',
    }),
    parent_api_url: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
        description:
          'Child: the parent URL, or several (a list or comma-separated) for failover. Env: `CASCADE_PARENT_API_URL` or `CASCADE_PARENT_URL`.',
      }),
    ),
    api_key: Type.Optional(Type.String({ description: 'Child: node key (`CN…`). Env: `CASCADE_API_KEY`.', pattern: '^CN[A-Za-z0-9_-]{32}$' })),
    api_secret: Type.Optional(Type.String({ description: 'Child: node secret (`CS…`). Env: `CASCADE_API_SECRET`.', pattern: '^CS[A-Za-z0-9_-]{32}$' })),
    sync_interval: int('Child: how often to refresh the read-only feed and task lists, in seconds. Env: `CASCADE_SYNC_INTERVAL`.', 300, 5, 86400),
    heartbeat_interval: int('Child: heartbeat period, in seconds. Env: `CASCADE_HEARTBEAT_INTERVAL`.', 60, 1, 3600),
    max_concurrency: Type.Optional(
      Type.Integer({ description: 'Child: feeds fetched at once (default: the node’s `max_capacity`). Env: `CASCADE_MAX_CONCURRENCY`.', minimum: 1, maximum: 1000 }),
    ),
    callback_url: Type.Optional(Type.String({ description: 'Child: address the parent may call back (http or https).', pattern: '^https?://' })),
    executor: Type.String({ description: 'Child: `feed` (built in) or a path to a module exporting an executor function.', default: 'feed', minLength: 1 }),
    data_dir: Type.String({ description: 'Child: folder for the outbox and HTTP cache (a small SQLite file).', default: './data/child', minLength: 1 }),
    health_port: int('Child: port of its small HTTP server answering `GET /healthz` (what the parent’s test-connection probes; set the node’s `api_url` to it); 0 = off. Env: `CASCADE_HEALTH_PORT`.', 0, 0, 65535),
    shutdown_grace_seconds: int('Child: time to finish in-flight work after SIGTERM, in seconds.', 30, 0, 3600),
    claim_wait_seconds: int('Child: long-poll wait per claim, in seconds.', 30, 0, 60),
    fetch_timeout_seconds: int('Child: timeout for one feed fetch, in seconds.', 20, 1, 600),
    fetch_max_bytes: int('Child: largest feed body accepted, in bytes.', 10485760, 1024, 1073741824),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ description: 'Parent: listen address. Env: `HOST`.', default: '0.0.0.0', minLength: 1 }),
    port: int('Parent: listen port (0 picks a free one). Env: `PORT`.', 8001, 0, 65535),
    secret: Type.Optional(
      Type.String({ description: 'Parent: JWT signing key (at least 32 characters). When unset, a key generated by `cascade init` is kept in the store. Env: `SECRET_KEY`.', minLength: 32 }),
    ),
    token_expire_minutes: int('Parent: lifetime of a login token, in minutes.', 1440, 1, 525600),
    body_limit_bytes: int('Parent: largest request body, in bytes (upload-articles allows 2 MiB).', 1048576, 1024, 104857600),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { description: 'Log level. Env: `LOG_LEVEL`.', default: 'info' },
    ),
    database: DatabaseSchema,
    dispatch: DispatchSchema,
    scheduler: SchedulerSchema,
    metrics: MetricsSchema,
    auth: AuthSchema,
    delivery: DeliverySchema,
    output: OutputSchema,
    cascade: CascadeSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type DispatchConfig = Static<typeof DispatchSchema>;
export type CascadeConfig = Static<typeof CascadeSchema>;
export type DeliveryConfig = Static<typeof DeliverySchema>;
