import { Type, type Static, type TInteger } from '@sinclair/typebox';

/**
 * The one configuration schema. Every field carries its default and unit in its description, and
 * docs/configuration.md is generated from it (`npm run docs:config`). Parent-only and child-only settings share
 * one file because the original system used one config.yaml for both roles.
 *
 * `env` names the environment variables that set a field (when several are set, the first listed wins). The loader
 * reads them through src/config/env-bindings.generated.ts (`npm run config:validator`), which also says how each
 * string becomes the field's type, so loading a configuration does not load TypeBox.
 */
type EnvNames = { env?: readonly string[] };

const int = (description: string, def: number, min: number, max: number, options: EnvNames = {}): TInteger =>
  Type.Integer({ description, default: def, minimum: min, maximum: max, ...options });

const DatabaseSchema = Type.Object(
  {
    url: Type.String({
      description:
        'Store location. `sqlite:<path>` (default `sqlite:./data/cascade.db`), `sqlite::memory:`, ' +
        '`postgres://user@host:5432/db` or `mysql://user@host:3306/db`.',
      env: ['DATABASE_URL'],
      default: 'sqlite:./data/cascade.db',
      minLength: 1,
    }),
    pool_size: int('Connections kept open to PostgreSQL or MySQL (ignored for SQLite).', 10, 1, 200, {
      env: ['CASCADE_DB_POOL_SIZE'],
    }),
    statement_timeout_ms: int(
      'Longest a single SQL statement may run, in milliseconds (0 = no limit).',
      30000,
      0,
      600000,
    ),
    prepared_statements: Type.Boolean({
      description:
        'PostgreSQL: prepare each statement once per connection instead of planning it on every call. Turn off behind a ' +
        'pooler in transaction mode that does not track prepared statements (PgBouncer before 1.21).',
      env: ['CASCADE_DB_PREPARED_STATEMENTS'],
      default: true,
    }),
  },
  { additionalProperties: false, default: {} },
);

const DispatchSchema = Type.Object(
  {
    feeds_per_allocation: int('Feeds grouped into one allocation.', 1, 1, 1000, {
      env: ['CASCADE_FEEDS_PER_ALLOCATION'],
    }),
    lease_seconds: int('Lease a claim holds before the sweeper requeues it, in seconds.', 120, 1, 86400, {
      env: ['CASCADE_LEASE_SECONDS'],
    }),
    sweep_interval_seconds: int(
      'How often the sweeper looks for expired leases and offline nodes, in seconds.',
      5,
      1,
      3600,
      { env: ['CASCADE_SWEEP_INTERVAL_SECONDS'] },
    ),
    retry_backoff_seconds: int(
      'Base delay before a requeued attempt is claimable, doubled per attempt, in seconds.',
      10,
      0,
      86400,
      { env: ['CASCADE_RETRY_BACKOFF_SECONDS'] },
    ),
    retry_backoff_max_seconds: int('Cap on the retry delay, in seconds.', 600, 0, 86400),
    max_attempts: int('Attempts per allocation before it ends `timeout` or `failed`.', 3, 1, 100, {
      env: ['CASCADE_MAX_ATTEMPTS'],
    }),
    offline_after_seconds: int('A node without a heartbeat for this long is offline, in seconds.', 180, 5, 86400, {
      env: ['CASCADE_OFFLINE_AFTER_SECONDS'],
    }),
    claim_timeout_seconds: int(
      'A claimed allocation that has not reported `executing` after this long is requeued by the sweeper (its claim answer most likely never reached the child; heartbeats do not keep it), in seconds.',
      60,
      1,
      86400,
    ),
    held_grace_seconds: int(
      'A heartbeat that lists the allocations the child holds (`held_allocation_ids`) requeues what the node holds but left out, except claims younger than this (their answer may still be on its way), in seconds.',
      10,
      0,
      3600,
    ),
    suspect_after_beats: int(
      'A node that reported its heartbeat interval is `suspect` after missing this many beats: nothing new is placed on it and its pre-assigned pending work goes back to the pool.',
      3,
      2,
      100,
    ),
    stall_seconds: int(
      'An executing allocation whose child reports progress with its heartbeats (feeds done, bytes read) but reports none for this long, while its node keeps beating, is flagged `stalled`; after as long again it is requeued (or ends `timeout` on its last attempt). Allocations of children that report no progress (the original child) are not judged. 0 turns stall detection off. In seconds.',
      300,
      0,
      86400,
    ),
    preassign_grace_seconds: int(
      'Pending work pre-assigned to a node that has not claimed it after this long goes back to the pool, so an idle node can take it (placement is a preference), unless the node holds quota weight > 0 for one of its feeds, in seconds.',
      30,
      1,
      86400,
    ),
  },
  { additionalProperties: false, default: {} },
);

const SchedulerSchema = Type.Object(
  {
    enabled: Type.Boolean({
      description: 'Run the cron scheduler in this parent process.',
      env: ['CASCADE_SCHEDULER_ENABLED'],
      default: true,
    }),
    timezone: Type.Optional(
      Type.String({
        description:
          'IANA time zone the cron expressions of tasks run in (`Asia/Shanghai`, `Europe/Berlin`, `UTC`). Unset: the zone of the system the parent runs on. `GET /api/v1/cascade/scheduler` shows it with every next run.',
        env: ['CASCADE_SCHEDULER_TIMEZONE'],
        minLength: 1,
        maxLength: 64,
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

const RefreshSchema = Type.Object(
  {
    min_interval: int(
      'Parent: shortest interval between two fetches of one feed that the learned rhythm allows, in seconds (docs/refresh.md). A cron or API dispatch includes only feeds that are due; `?force=true` / `--force` includes every feed.',
      300,
      1,
      2592000,
      { env: ['CASCADE_REFRESH_MIN_INTERVAL'] },
    ),
    max_interval: int(
      'Parent: longest interval the learned rhythm reaches (a feed that never changes, or keeps failing, is still fetched this often), in seconds; at least `min_interval`.',
      86400,
      1,
      31536000,
      { env: ['CASCADE_REFRESH_MAX_INTERVAL'] },
    ),
  },
  { additionalProperties: false, default: {} },
);

const MetricsSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Serve Prometheus metrics at `/metrics`.', default: true }),
    token: Type.Optional(
      Type.String({
        description:
          'When set, `/metrics` answers any client that sends `Authorization: Bearer <token>`; when unset, only loopback clients ' +
          '(a scraper on the same machine).',
        env: ['CASCADE_METRICS_TOKEN'],
        minLength: 1,
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

const AuthSchema = Type.Object(
  {
    login_max_failures: int(
      'Failed logins allowed per username and client address within the window before 429.',
      5,
      1,
      1000,
    ),
    login_window_seconds: int('Window for counting failed logins, in seconds.', 300, 1, 86400),
    account_free_failures: int(
      'Failed logins for one username, from any address, before each further attempt on it must wait; the wait doubles ' +
        'with every further failure (4 s, 8 s, 16 s …) up to `account_max_delay_seconds`, and a success ends it.',
      10,
      1,
      1000,
    ),
    account_max_delay_seconds: int(
      'Longest wait the per-username delay reaches, in seconds; also how long a correct password from a new address can be held off.',
      60,
      1,
      3600,
    ),
    node_max_failures: int(
      'Failed child (AK-SK) authentications allowed per client address within `login_window_seconds` before 429.',
      20,
      1,
      100000,
    ),
    signature_window_seconds: int(
      'Parent: how far a signed child request’s timestamp (`AK-SK-HMAC … ts=`) may be from the parent’s clock, either way, in seconds; its nonce is remembered that long.',
      300,
      5,
      3600,
      { env: ['CASCADE_SIGNATURE_WINDOW_SECONDS'] },
    ),
  },
  { additionalProperties: false, default: {} },
);

const TlsSchema = Type.Object(
  {
    cert: Type.Optional(
      Type.String({
        description: 'Parent: PEM certificate chain file; with `key`, the parent speaks HTTPS. Re-read on SIGHUP.',
        env: ['CASCADE_TLS_CERT'],
        minLength: 1,
      }),
    ),
    key: Type.Optional(
      Type.String({
        description: 'Parent: PEM private key file for `cert` (keep it mode 0600). Re-read on SIGHUP.',
        env: ['CASCADE_TLS_KEY'],
        minLength: 1,
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ServerSchema = Type.Object(
  {
    request_timeout_seconds: int(
      'Parent: longest time a client may take to send one whole request (headers and body), in seconds; a slower one gets ' +
        '408 and its connection is closed. A long-poll claim waits after its request has arrived, so `wait` is not limited by it.',
      30,
      1,
      3600,
    ),
    headers_timeout_seconds: int(
      'Parent: longest time to receive the request headers, in seconds (at most `request_timeout_seconds`).',
      10,
      1,
      3600,
    ),
    keep_alive_timeout_seconds: int(
      'Parent: how long an idle keep-alive connection stays open for the next request, in seconds.',
      72,
      1,
      3600,
    ),
    max_connections: int(
      'Parent: open connections at most (children, users, probes together); further ones are closed at once and logged. ' +
        'Keep it below the process file limit (`ulimit -n`) minus the database pool. 0 = no cap.',
      1000,
      0,
      1000000,
      { env: ['CASCADE_MAX_CONNECTIONS'] },
    ),
    trust_proxy: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      description:
        'Parent: addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed; ' +
        'the client address is then the last untrusted hop. Empty (the default) believes no proxy: the client address is the TCP peer.',
      env: ['CASCADE_TRUST_PROXY'],
      default: [],
      maxItems: 100,
    }),
    tls: TlsSchema,
  },
  { additionalProperties: false, default: {} },
);

const SecretsSchema = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        description:
          'Parent: key that seals node API secrets and notify keys at rest (AES-256-GCM), so the parent can verify signed child requests. When unset, a key generated on first use is kept in the store (like the JWT key); set it (from a file or the environment) to keep the key out of the database. Changing it makes sealed secrets unreadable: rotate every node’s credentials after.',
        env: ['CASCADE_SECRETS_KEY'],
        minLength: 32,
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

const NetworkSchema = Type.Object(
  {
    allow_private: Type.Boolean({
      description:
        'Let outbound requests (feed fetches and their redirects, webhooks, test-connection, notify) reach loopback and ' +
        'private addresses (127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7). ' +
        'Off by default: a feed URL must not become a way into your network. Link-local and cloud metadata addresses ' +
        '(169.254.0.0/16, fe80::/10) stay refused.',
      env: ['CASCADE_NETWORK_ALLOW_PRIVATE'],
      default: false,
    }),
    allow_cidrs: Type.Array(Type.String({ minLength: 1 }), {
      description:
        'Private ranges or addresses outbound requests may reach although `allow_private` is off, e.g. ' +
        '`[192.168.1.0/24, 127.0.0.1]` for children and feeds on your LAN. Link-local and metadata addresses stay ' +
        'refused.',
      env: ['CASCADE_NETWORK_ALLOW_CIDRS'],
      default: [],
    }),
  },
  { additionalProperties: false, default: {} },
);

export const DeliverySchema = Type.Object(
  {
    enabled: Type.Boolean({
      description:
        'Run the delivery sender in this parent (every parent on one database may; each delivery is sent once).',
      default: true,
    }),
    batch_seconds: int('New articles of one task within this many seconds go in one delivery.', 60, 0, 86400),
    max_articles: int('Most articles in one message; the rest go in following messages.', 20, 1, 500),
    max_attempts: int('Sends of one delivery before it ends `failed`.', 5, 1, 100),
    timeout_seconds: int('Longest wait for a receiver to answer one send, in seconds.', 10, 1, 600),
    lease_seconds: int(
      'A `sending` delivery whose sender stopped answering is sent again after this many seconds; more than `timeout_seconds`.',
      60,
      2,
      86400,
    ),
    retry_backoff_seconds: int(
      'Base delay before a failed send is retried, doubled per attempt, in seconds (a longer `Retry-After` wins).',
      10,
      0,
      86400,
    ),
    retry_backoff_max_seconds: int('Cap on the retry delay, in seconds.', 600, 0, 86400),
    poll_interval_ms: int('How often the sender looks for due deliveries, in milliseconds.', 1000, 50, 60000),
    concurrency: int('Deliveries one parent sends at once.', 4, 1, 100),
  },
  { additionalProperties: false, default: {} },
);

const OutputSchema = Type.Object(
  {
    public: Type.Boolean({
      description: 'Serve `/feeds/…` to anyone; when false a reader needs a user’s feed token as `?token=`.',
      default: false,
    }),
    base_url: Type.Optional(
      Type.String({
        description:
          'Address readers use to reach this parent, for subscription URLs (default `http://<host>:<port>`).',
        pattern: '^https?://[^\\s]+$',
        maxLength: 1000,
      }),
    ),
    cache_seconds: int('`Cache-Control: max-age` of served feeds, in seconds.', 300, 0, 86400),
  },
  { additionalProperties: false, default: {} },
);

const CascadeSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Cascade features on.', env: ['CASCADE_ENABLED'], default: true }),
    node_type: Type.Union([Type.Literal('parent'), Type.Literal('child')], {
      description: 'Role of this process.',
      env: ['CASCADE_NODE_TYPE'],
      default: 'parent',
    }),
    parent_api_url: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
        description: 'Child: the parent URL, or several (a list or comma-separated) for failover.',
        env: ['CASCADE_PARENT_API_URL', 'CASCADE_PARENT_URL'],
      }),
    ),
    api_key: Type.Optional(
      Type.String({
        description: 'Child: node key (`CN…`).',
        env: ['CASCADE_API_KEY'],
        pattern: '^CN[A-Za-z0-9_-]{32}$',
      }),
    ),
    api_secret: Type.Optional(
      Type.String({
        description: 'Child: node secret (`CS…`).',
        env: ['CASCADE_API_SECRET'],
        pattern: '^CS[A-Za-z0-9_-]{32}$',
      }),
    ),
    notify_key: Type.Optional(
      Type.String({
        description:
          'Child: key that verifies the parent’s signed wake-up calls (`POST /api/v1/cascade/notify` on `health_port`); shown once by `cascade node add`. Without it every notify is refused.',
        env: ['CASCADE_NOTIFY_KEY'],
        pattern: '^[A-Za-z0-9_-]{32,128}$',
      }),
    ),
    request_signing: Type.Union([Type.Literal('auto'), Type.Literal('always'), Type.Literal('off')], {
      description:
        'Child: how it authenticates to the parent. `auto` signs every request (AK-SK-HMAC, the secret never sent) and falls back to the plain `AK-SK key:secret` header when the parent cannot verify signatures for this node (a node created before request signing, or an older parent); `always` never falls back; `off` sends the plain header only.',
      env: ['CASCADE_REQUEST_SIGNING'],
      default: 'auto',
    }),
    sync_interval: int('Child: how often to refresh the read-only feed and task lists, in seconds.', 300, 5, 86400, {
      env: ['CASCADE_SYNC_INTERVAL'],
    }),
    heartbeat_interval: int('Child: heartbeat period, in seconds.', 60, 1, 3600, {
      env: ['CASCADE_HEARTBEAT_INTERVAL'],
    }),
    max_concurrency: Type.Optional(
      Type.Integer({
        description:
          'Child: feeds fetched at once. Unset: the node’s `max_capacity`, which every heartbeat answer carries (10 until the first answer).',
        env: ['CASCADE_MAX_CONCURRENCY'],
        minimum: 1,
        maximum: 1000,
      }),
    ),
    callback_url: Type.Optional(
      Type.String({
        description: 'Child: address the parent may call back (http or https).',
        env: ['CASCADE_CALLBACK_URL'],
        pattern: '^https?://',
      }),
    ),
    executor: Type.String({
      description: 'Child: `feed` (built in) or a path to a module exporting an executor function.',
      env: ['CASCADE_EXECUTOR'],
      default: 'feed',
      minLength: 1,
    }),
    data_dir: Type.String({
      description: 'Child: folder for the outbox of results not yet delivered (a small SQLite file).',
      env: ['CASCADE_DATA_DIR'],
      default: './data/child',
      minLength: 1,
    }),
    health_port: int(
      'Child: port of its small HTTP server answering `GET /healthz` (what the parent’s test-connection probes; set the node’s `api_url` to it); 0 = off.',
      0,
      0,
      65535,
      { env: ['CASCADE_HEALTH_PORT'] },
    ),
    shutdown_grace_seconds: int('Child: time to finish in-flight work after SIGTERM, in seconds.', 30, 0, 3600),
    claim_wait_seconds: int('Child: long-poll wait per claim, in seconds; 0 turns long-poll off.', 30, 0, 60),
    claim_interval_seconds: int(
      'Child: with long-poll off (`claim_wait_seconds: 0`), how long an idle child waits before asking for work again, in seconds; a notify from the parent wakes it at once.',
      30,
      1,
      86400,
      { env: ['CASCADE_CLAIM_INTERVAL'] },
    ),
    fetch_timeout_seconds: int('Child: timeout for one feed fetch, in seconds.', 20, 1, 600),
    fetch_max_bytes: int('Child: largest feed body accepted, in bytes.', 10485760, 1024, 1073741824),
    retry_after_max_seconds: int(
      'Child: a feed answering 429 or 503 with `Retry-After` is fetched again after the wait it asked for, within the same attempt, when the wait is at most this long and fits the allocation’s lease (less `fetch_timeout_seconds`); a longer one fails the feed for now with the reason, and the parent retries it on its backoff. 0: never wait.',
      60,
      0,
      3600,
      { env: ['CASCADE_RETRY_AFTER_MAX_SECONDS'] },
    ),
  },
  { additionalProperties: false, default: {} },
);

const PolitenessHostSchema = Type.Object(
  {
    max_in_flight: Type.Optional(
      int(
        'This host: feeds fetched from it at once across the fleet (overrides `max_in_flight_per_host`).',
        2,
        1,
        10000,
      ),
    ),
    min_interval_ms: Type.Optional(
      int(
        'This host: least time between two hand-outs of work that fetches from it, in milliseconds (overrides `min_interval_ms_per_host`).',
        1000,
        0,
        86400000,
      ),
    ),
  },
  { additionalProperties: false },
);

const PolitenessSchema = Type.Object(
  {
    enabled: Type.Boolean({
      description:
        "Parent: hold back work whose feeds' hosts are at their limit (docs/politeness.md). Hosts are counted by registrable domain (`a.example.com` and `b.example.com` are `example.com`); an IP address or `localhost` counts as itself. Every parent on one database shares the counts.",
      env: ['CASCADE_POLITENESS_ENABLED'],
      default: true,
    }),
    max_in_flight_per_host: int(
      'Parent: most feeds of one host in claimed or executing allocations across the fleet. An allocation with more feeds of one host than this is handed out only when none of its feeds are in flight.',
      2,
      1,
      10000,
      { env: ['CASCADE_POLITENESS_MAX_IN_FLIGHT_PER_HOST'] },
    ),
    min_interval_ms_per_host: int(
      'Parent: least time between two hand-outs (claims) of work that fetches from one host, in milliseconds. 0: no spacing.',
      1000,
      0,
      86400000,
      { env: ['CASCADE_POLITENESS_MIN_INTERVAL_MS_PER_HOST'] },
    ),
    max_pause_seconds: int(
      'Parent: a child reporting `429`/`503` with `Retry-After` for a feed pauses its host for the whole fleet that long, but at most this long, in seconds. 0: reports do not pause hosts.',
      3600,
      0,
      86400,
    ),
    hosts: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), PolitenessHostSchema, {
      description:
        'Parent: per-host overrides, keyed by registrable domain (or IP address, `localhost`), e.g. `{ "example.com": { max_in_flight: 1, min_interval_ms: 5000 } }`. A key that is not a registrable domain (`www.example.com`) is rejected.',
      default: {},
    }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ description: 'Parent: listen address.', env: ['HOST'], default: '0.0.0.0', minLength: 1 }),
    port: int('Parent: listen port (0 picks a free one).', 8001, 0, 65535, { env: ['PORT'] }),
    secret: Type.Optional(
      Type.String({
        description:
          'Parent: JWT signing key (at least 32 characters). When unset, a key generated by `cascade init` is kept in the store.',
        env: ['SECRET_KEY'],
        minLength: 32,
      }),
    ),
    token_expire_minutes: int('Parent: lifetime of a login token, in minutes.', 1440, 1, 525600, {
      env: ['TOKEN_EXPIRE_MINUTES'],
    }),
    body_limit_bytes: int(
      'Parent: largest request body, in bytes (upload-articles allows 2 MiB).',
      1048576,
      1024,
      104857600,
    ),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { description: 'Log level.', env: ['LOG_LEVEL'], default: 'info' },
    ),
    log_format: Type.Union([Type.Literal('auto'), Type.Literal('pretty'), Type.Literal('json')], {
      description:
        'Log lines of `cascade parent` and `cascade child` on stderr: `pretty` (one readable coloured line per event), `json` (one JSON object per line, ISO-8601 `time`, for collectors), or `auto`: pretty on a terminal, JSON otherwise. Flag `--log-format`.',
      env: ['CASCADE_LOG_FORMAT'],
      default: 'auto',
    }),
    database: DatabaseSchema,
    dispatch: DispatchSchema,
    scheduler: SchedulerSchema,
    refresh: RefreshSchema,
    metrics: MetricsSchema,
    auth: AuthSchema,
    secrets: SecretsSchema,
    network: NetworkSchema,
    server: ServerSchema,
    delivery: DeliverySchema,
    output: OutputSchema,
    cascade: CascadeSchema,
    politeness: PolitenessSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ServerConfig = Static<typeof ServerSchema>;
export type DeliveryConfig = Static<typeof DeliverySchema>;
