import type { ColumnType, Generated } from 'kysely';

/**
 * Row types of every table. Times are Unix epoch milliseconds in BIGINT columns so that all three dialects store
 * and compare them the same way; booleans are 0/1 integers; JSON is text parsed by the row mappers.
 */
type Millis = number;
type Nullable<T> = T | null;

export type NodeTable = {
  id: string;
  node_type: number;
  name: string;
  description: string;
  api_url: Nullable<string>;
  callback_url: Nullable<string>;
  api_key: Nullable<string>;
  api_secret_hash: Nullable<string>;
  /** The API secret sealed by SecretBox (migration 010); null for nodes not rotated since. */
  api_secret_sealed: Nullable<string>;
  /** Sealed by SecretBox since migration 010; plain text in rows not rotated since. */
  notify_key: Nullable<string>;
  /** 1: the plain AK-SK header is refused, only signed requests are accepted. */
  require_signed: number;
  is_active: number;
  max_capacity: number;
  feed_quota: string;
  /** Feeds in allocations this node holds or has pre-assigned; kept by store/allocations in every move. */
  load_feeds: number;
  /** What the child last reported in its heartbeat. */
  reported_tasks: number;
  last_heartbeat_at: Nullable<Millis>;
  /** The heartbeat period the child reports (null: it does not say, as the original child). */
  heartbeat_interval_ms: Nullable<Millis>;
  last_sync_at: Nullable<Millis>;
  version: Nullable<string>;
  hostname: Nullable<string>;
  created_at: Millis;
  updated_at: Millis;
};

export type RequestNonceTable = {
  node_id: string;
  nonce: string;
  /** When the nonce's timestamp leaves the window; the row may be deleted after. */
  expires_at: Millis;
};

export type UserTable = {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  is_active: number;
  /** Moves on with every password or active-flag change; tokens naming an older generation are refused. */
  token_generation: number;
  /** Bumped to rotate the user's feed read token (src/auth/feed-token.ts); old subscription URLs stop working. */
  feed_token_version: number;
  created_at: Millis;
  updated_at: Millis;
};

export type FeedTable = {
  id: string;
  mp_name: string;
  mp_cover: string;
  mp_intro: string;
  faker_id: string;
  url: string;
  status: number;
  sync_time: Nullable<number>;
  update_time: Nullable<number>;
  /** Conditional-GET validators of the last accepted successful completion (they travel in the task package). */
  etag: Nullable<string>;
  last_modified: Nullable<string>;
  /** The node whose accepted completion last succeeded for the feed: placement prefers it (warm connections). */
  last_node_id: Nullable<string>;
  /** Fetch only what is due (migration 014, src/domain/feed-rhythm.ts): null = due now / not learned yet. */
  next_due_at: Nullable<Millis>;
  refresh_interval_seconds: Nullable<number>;
  /** Not null in the database (default 0); typed nullable so that inserts may leave it out. */
  refresh_failures: Nullable<number>;
  refresh_hint_seconds: Nullable<number>;
  article_count: number;
  created_at: Millis;
  updated_at: Millis;
};

export type MessageTaskTable = {
  id: string;
  name: string;
  message_type: number;
  message_template: string;
  web_hook_url: string;
  headers: string;
  cookies: string;
  mps_id: string;
  cron_exp: string;
  status: number;
  /** Webhook tasks: the X-Cascade-Signature key; DingTalk and Feishu bots: the bot's signing secret. Never shown. */
  webhook_secret: string;
  created_at: Millis;
  updated_at: Millis;
};

export type AllocationTable = {
  id: string;
  task_id: string;
  task_name: string;
  node_id: Nullable<string>;
  feed_ids: string;
  feed_count: number;
  status: string;
  attempt: number;
  max_attempts: number;
  /** A pending allocation is claimable from this moment (retry backoff). */
  available_at: Millis;
  /** When the pending allocation became claimable (dispatch, end of retry backoff): the claim order. */
  claimable_at: Millis;
  lease_expires_at: Nullable<Millis>;
  placement: string;
  result_summary: Nullable<string>;
  error_message: Nullable<string>;
  dispatched_at: Millis;
  claimed_at: Nullable<Millis>;
  started_at: Nullable<Millis>;
  completed_at: Nullable<Millis>;
  schedule_run_id: string;
  article_count: number;
  new_article_count: number;
  /** When the attempt's reported progress last moved (null: none reported for this attempt; no stall detection). */
  progress_at: Nullable<Millis>;
  /** The attempt's progress as its child last reported it with a heartbeat. */
  progress_feeds_done: number;
  progress_bytes_read: number;
  /** When the sweeper found the attempt stalled (no progress for dispatch.stall_seconds while its node beats). */
  stalled_at: Nullable<Millis>;
  created_at: Millis;
  updated_at: Millis;
  /** What the last claim counted per host (JSON `{host: feeds}`), given back when held work ends or is requeued. */
  held_hosts?: Nullable<string>;
};

/** Per-host politeness (migration 013): fetches in flight, the last hand-out, a fleet-wide pause. */
export type HostStateTable = {
  host: string;
  /** Feeds of claimed and executing allocations that fetch from this host. */
  in_flight: number;
  last_fetch_at: Nullable<Millis>;
  paused_until: Nullable<Millis>;
  pause_reason: Nullable<string>;
  updated_at: Millis;
};

export type AllocationFeedTable = { allocation_id: string; feed_id: string };

/** One row per feed with a live allocation: the primary key makes "one live allocation per feed" a database rule. */
export type LiveFeedTable = { feed_id: string; allocation_id: string };

export type AllocationAttemptTable = {
  id: Generated<number>;
  allocation_id: string;
  attempt: number;
  node_id: string;
  claimed_at: Millis;
  started_at: Nullable<Millis>;
  ended_at: Nullable<Millis>;
  outcome: Nullable<string>;
  error_message: Nullable<string>;
};

export type ArticleTable = {
  id: string;
  mp_id: string;
  title: string;
  url: string;
  pic_url: string;
  description: string;
  content: string;
  content_markdown: string;
  publish_time: number;
  /** JSON object text: the original child's `ext` for this article, as sent. */
  ext: Nullable<string>;
  allocation_id: Nullable<string>;
  node_id: Nullable<string>;
  created_at: Millis;
  updated_at: Millis;
};

export type SyncLogTable = {
  id: Generated<number>;
  node_id: Nullable<string>;
  operation: string;
  direction: string;
  status: number;
  data_count: number;
  error_message: Nullable<string>;
  extra_data: Nullable<string>;
  started_at: Millis;
  completed_at: Nullable<Millis>;
};

export type SettingTable = { key: string; value: string };

/** One row per (task, scheduled time): a cron tick dispatches only if it inserts its row first. */
export type ScheduleTickTable = {
  task_id: string;
  scheduled_at: Millis;
  schedule_run_id: string;
  fired_at: ColumnType<Millis, Millis, never>;
};

/** One notification of a task: pending → sending → delivered, or back to pending, or failed (domain/delivery-states.ts). */
export type DeliveryTable = {
  id: string;
  task_id: string;
  status: string;
  attempt: number;
  article_count: number;
  /** Until then new articles of the task join this delivery (delivery.batch_seconds). */
  batch_closes_at: Millis;
  available_at: Millis;
  lease_expires_at: Nullable<Millis>;
  last_status_code: Nullable<number>;
  last_response: Nullable<string>;
  last_error: Nullable<string>;
  created_at: Millis;
  updated_at: Millis;
  delivered_at: Nullable<Millis>;
};

export type DeliveryArticleTable = { delivery_id: string; mp_id: string; article_id: string };

export type Database = {
  nodes: NodeTable;
  users: UserTable;
  feeds: FeedTable;
  message_tasks: MessageTaskTable;
  allocations: AllocationTable;
  allocation_feeds: AllocationFeedTable;
  live_feeds: LiveFeedTable;
  allocation_attempts: AllocationAttemptTable;
  articles: ArticleTable;
  sync_logs: SyncLogTable;
  settings: SettingTable;
  schedule_ticks: ScheduleTickTable;
  deliveries: DeliveryTable;
  delivery_articles: DeliveryArticleTable;
  request_nonces: RequestNonceTable;
  host_state: HostStateTable;
};
