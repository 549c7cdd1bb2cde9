/** docs/protocol.md §3.1 feed-status buckets, from the feed's last successful update (Unix seconds). */
export type UpdateStatus = 'fresh' | 'recent' | 'stale' | 'outdated' | 'unknown';

export function updateStatus(updateTimeSeconds: number | null, nowMs: number): UpdateStatus {
  if (updateTimeSeconds === null || updateTimeSeconds <= 0) return 'unknown';
  const ageHours = (nowMs / 1000 - updateTimeSeconds) / 3600;
  if (ageHours < 1) return 'fresh';
  if (ageHours < 24) return 'recent';
  if (ageHours < 72) return 'stale';
  return 'outdated';
}
