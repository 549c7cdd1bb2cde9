import { Cron } from 'croner';
import { EnabledStatus } from '../domain/enabled-status.js';
import { localIso } from '../dispatch/scheduler.js';
import type { MessageTaskView } from '../store/message-tasks.js';
import { printFields, printTable } from './output.js';

/** The next time a task's cron fires in the parent's scheduler zone, with its offset, or '-' without a schedule. */
function nextRun(task: Pick<MessageTaskView, 'cron_exp' | 'status'>, timezone: string, now = new Date()): string {
  if (task.cron_exp === '') return '-';
  if (task.status !== EnabledStatus.enabled) return 'disabled';
  let job: Cron | undefined;
  try {
    job = new Cron(task.cron_exp, { paused: true, timezone });
    const next = job.nextRun(now);
    return next ? localIso(next, timezone) : 'never';
  } catch {
    return 'invalid cron';
  } finally {
    job?.stop();
  }
}

export function printTask(task: MessageTaskView, timezone: string): void {
  printFields([
    ['id', task.id],
    ['name', task.name],
    ['status', task.status === EnabledStatus.enabled ? 'enabled' : 'disabled'],
    ['feeds', `${task.mps_id.length}${task.mps_id.length > 0 ? ` (${feedList(task)})` : ''}`],
    ['cron', task.cron_exp === '' ? '(none: dispatched by hand or the API)' : `${task.cron_exp} (${timezone})`],
    ['next run', nextRun(task, timezone)],
  ]);
}

export function printTaskTable(tasks: readonly MessageTaskView[], timezone: string): void {
  printTable(
    ['ID', 'NAME', 'STATUS', 'FEEDS', 'CRON', `NEXT RUN (${timezone})`],
    tasks.map((t) => [
      t.id,
      t.name,
      t.status === EnabledStatus.enabled ? 'enabled' : 'disabled',
      String(t.mps_id.length),
      t.cron_exp || '-',
      nextRun(t, timezone),
    ]),
  );
}

function feedList(task: MessageTaskView): string {
  const ids = task.mps_id.map((ref) => ref.id);
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} +${ids.length - 5}`;
}
