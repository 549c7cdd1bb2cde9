/** Shapes of the public admin API's answers that the console reads (see /api/docs). */
export type NodeView = {
  id: string;
  node_type: number;
  name: string;
  description: string;
  api_url: string | null;
  api_key: string | null;
  status: number;
  is_active: boolean;
  sync_config: { max_capacity: number; feed_quota: Record<string, number> };
  current_tasks: number;
  last_heartbeat_at: string | null;
  version: string | null;
  hostname: string | null;
};

export type AllocationView = {
  id: string;
  task_id: string;
  task_name: string;
  node_id: string | null;
  node_name: string | null;
  feed_ids: string[];
  status: string;
  attempt: number;
  max_attempts: number;
  placement: string;
  result_summary: unknown;
  error_message: string | null;
  dispatched_at: string | null;
  completed_at: string | null;
  article_count: number;
  new_article_count: number;
  /** The attempt's progress as its child last reported it (the Cascade child does; the original sends none). */
  progress: { feeds_done: number; bytes_read: number; last_progress_at: string | null } | null;
  /** Executing without progress for `dispatch.stall_seconds` while its node kept beating. */
  stalled: boolean;
  stalled_at: string | null;
  created_at: string | null;
  updated_at: string | null;
  attempts?: Array<{
    attempt: number;
    node_name: string | null;
    node_id: string;
    claimed_at: string | null;
    started_at: string | null;
    ended_at: string | null;
    outcome: string | null;
    error_message: string | null;
  }>;
};

export type Activity = {
  allocations_by_status: Record<string, number>;
  finished_per_minute: Array<{ minute: string; completed: number; failed: number }>;
  feeds_by_freshness: Record<'fresh' | 'recent' | 'stale' | 'outdated' | 'unknown', number>;
  cron: Array<{ task_id: string; task_name: string; cron_exp: string; next_runs: string[]; error?: string }>;
};

export type FeedView = {
  id: string;
  mp_name: string;
  url: string;
  status: number;
  update_time: number | null;
  article_count: number;
  /** Fetch only what is due (docs/refresh.md): null = due now. */
  next_due_at?: string | null;
  /** The learned interval in seconds; null = not learned yet. */
  refresh_interval_seconds?: number | null;
};

export type TaskView = {
  id: string;
  name: string;
  cron_exp: string;
  status: number;
  mps_id: Array<{ id: string }> | string;
  web_hook_url: string;
  message_type: number;
};

export type DispatchSummary = {
  task_count: number;
  allocations_created: number;
  feeds_assigned: number;
  feeds_unassigned: number;
  feeds_skipped_in_flight: number;
  feeds_skipped_disabled: number;
  feeds_skipped_unknown: number;
  online_nodes: number;
  /** Fetch only what is due (docs/refresh.md). */
  feeds_skipped_not_due?: number;
  next_due_at?: string | null;
};

export const ALLOCATION_STATUSES = [
  'pending',
  'claimed',
  'executing',
  'completed',
  'failed',
  'timeout',
  'cancelled',
] as const;
