import { Cron } from 'croner';

/**
 * Checks a task's `cron_exp` (docs/protocol.md §5): empty means "no schedule"; otherwise 5 fields (minute first) or 6
 * (seconds first) that croner can parse and that fire at least once. Returns the problem in words, or null.
 */
export function cronExpressionProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (trimmed === '') return null;
  const fields = trimmed.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `needs 5 fields (minute hour day month weekday) or 6 (with seconds first); got ${fields}`;
  }
  let job: Cron | undefined;
  try {
    job = new Cron(trimmed, { paused: true });
    if (job.nextRun() === null) return 'never fires (no matching date)';
    return null;
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message.replace(/^CronPattern:\s*/, '')}`;
  } finally {
    job?.stop();
  }
}
