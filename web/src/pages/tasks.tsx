import { useState } from 'preact/hooks';
import { apiCall, get, type Page } from '../api';
import { Dialog, Empty, ErrorNote, Field, Loading, Pager, RowActions, TableHead } from '../components/bits';
import { dateTime, relative } from '../format';
import { useIsAdmin, useLive, useNow } from '../hooks';
import { t } from '../i18n/i18n';
import type { Activity, DispatchSummary, FeedView, TaskView } from '../types';
import { FeedsSection } from './feeds';

async function loadTasks() {
  const [tasks, activity, feeds] = await Promise.all([
    get<Page<TaskView>>('/message-tasks', { limit: 200 }),
    get<Activity>('/cascade/activity', { minutes: 1 }),
    get<Page<FeedView>>('/feeds', { limit: 200 }),
  ]);
  return { tasks: tasks.list, cron: new Map(activity.cron.map((c) => [c.task_id, c])), feeds: feeds.list };
}

function feedIdsOf(task: TaskView): string[] {
  const refs =
    typeof task.mps_id === 'string' ? (JSON.parse(task.mps_id || '[]') as Array<{ id: string }>) : task.mps_id;
  return refs.map((r) => r.id);
}

/** The dispatch answer; feeds left out as not due yet (docs/refresh.md) are counted, with a button to fetch them anyway. */
function DispatchResult({ summary, onForce }: { summary: DispatchSummary; onForce: () => void }) {
  const notDue = summary.feeds_skipped_not_due ?? 0;
  return (
    <p role="status" class="result" data-testid="dispatch-result">
      {t('tasks.dispatched', {
        tasks: summary.task_count,
        created: summary.allocations_created,
        assigned: summary.feeds_assigned,
        inFlight: summary.feeds_skipped_in_flight,
        unassigned: summary.feeds_unassigned,
        online: summary.online_nodes,
      })}
      {notDue > 0 ? (
        <>
          {' '}
          <span data-testid="dispatch-not-due">
            {t('tasks.notDue', { count: notDue, next: relative(summary.next_due_at) })}
          </span>{' '}
          <button type="button" class="small" onClick={onForce}>
            {t('tasks.dispatchForce')}
          </button>
        </>
      ) : null}
    </p>
  );
}

function TaskForm({ task, feeds, onSaved }: { task?: TaskView; feeds: FeedView[]; onSaved: () => void }) {
  const [name, setName] = useState(task?.name ?? '');
  const [cron, setCron] = useState(task?.cron_exp ?? '');
  const [enabled, setEnabled] = useState((task?.status ?? 1) === 1);
  const [chosen, setChosen] = useState<string[]>(task ? feedIdsOf(task) : []);
  const [error, setError] = useState<string | undefined>();
  async function save(event: Event) {
    event.preventDefault();
    setError(undefined);
    const body = { name, cron_exp: cron, status: enabled ? 1 : 0, mps_id: chosen.map((id) => ({ id })) };
    try {
      await apiCall(task ? `/message-tasks/${task.id}` : '/message-tasks', { method: task ? 'PUT' : 'POST', body });
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form onSubmit={save}>
      <Field label={t('tasks.name')}>
        <input
          name="name"
          required
          maxLength={500}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field label={t('tasks.cron')} hint={t('tasks.cronHint')}>
        <input
          name="cron_exp"
          value={cron}
          placeholder="*/30 * * * *"
          onInput={(e) => setCron((e.target as HTMLInputElement).value)}
        />
      </Field>
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)} />{' '}
        {t('common.enabled')}
      </label>
      <Field label={t('tasks.feeds')}>
        <select
          name="mps_id"
          multiple
          size={Math.min(8, Math.max(3, feeds.length))}
          onChange={(e) => setChosen([...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value))}
        >
          {feeds.map((f) => (
            <option key={f.id} value={f.id} selected={chosen.includes(f.id)}>
              {f.mp_name || f.id}
            </option>
          ))}
        </select>
      </Field>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        {t('common.save')}
      </button>
    </form>
  );
}

export function TasksPage() {
  const admin = useIsAdmin();
  const { data, error, reload } = useLive(loadTasks, [], ['dispatch']);
  const [editing, setEditing] = useState<TaskView | 'new' | undefined>();
  const [summary, setSummary] = useState<DispatchSummary | undefined>();
  const [actionError, setActionError] = useState<string | undefined>();
  const [offset, setOffset] = useState(0);
  useNow(10_000);
  const [lastTask, setLastTask] = useState<string | undefined>();
  async function dispatch(taskId?: string, force = false) {
    setActionError(undefined);
    setLastTask(taskId);
    try {
      setSummary(
        (
          await apiCall<DispatchSummary>('/cascade/dispatch-task', {
            method: 'POST',
            query: { task_id: taskId, ...(force ? { force: 'true' } : {}) },
          })
        ).data,
      );
    } catch (e) {
      setActionError((e as Error).message);
    }
  }
  async function remove(task: TaskView) {
    if (!window.confirm(t('tasks.deleteConfirm', { name: task.name }))) return;
    try {
      await apiCall(`/message-tasks/${task.id}`, { method: 'DELETE' });
      reload();
    } catch (e) {
      setActionError((e as Error).message);
    }
  }
  const pageSize = 50;
  return (
    <section aria-labelledby="tasks-title">
      <div class="title-row">
        <h1 id="tasks-title">{t('nav.tasks')}</h1>
        {admin ? (
          <div class="actions">
            <button type="button" onClick={() => setEditing('new')}>
              {t('tasks.add')}
            </button>
            <button type="button" class="primary" onClick={() => dispatch()}>
              {t('tasks.dispatchAll')}
            </button>
          </div>
        ) : null}
      </div>
      {summary ? <DispatchResult summary={summary} onForce={() => dispatch(lastTask, true)} /> : null}
      <ErrorNote error={error ?? actionError} />
      {!data ? (
        <Loading />
      ) : data.tasks.length === 0 ? (
        <Empty>{admin ? t('tasks.empty') : t('tasks.emptyViewer')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead
              columns={[
                t('tasks.name'),
                t('tasks.feeds'),
                t('tasks.cron'),
                t('tasks.nextRuns'),
                ...(admin ? [t('common.actions')] : []),
              ]}
            />
            <tbody>
              {data.tasks.slice(offset, offset + pageSize).map((task) => {
                const cron = data.cron.get(task.id);
                return (
                  <tr key={task.id} data-task={task.name}>
                    <td>
                      {task.name}
                      {task.status !== 1 ? <small class="muted"> · {t('common.disabled')}</small> : null}
                    </td>
                    <td>{feedIdsOf(task).length}</td>
                    <td>
                      {task.cron_exp ? (
                        <code>{task.cron_exp}</code>
                      ) : (
                        <span class="muted">{t('tasks.noSchedule')}</span>
                      )}
                    </td>
                    <td>
                      {cron?.error ? (
                        <span class="error">{t('tasks.badCron')}</span>
                      ) : cron ? (
                        <ol class="runs">
                          {cron.next_runs.map((r) => (
                            <li key={r} title={dateTime(r)}>
                              {relative(r)} · {dateTime(r)}
                            </li>
                          ))}
                        </ol>
                      ) : (
                        '—'
                      )}
                    </td>
                    {admin ? (
                      <td class="actions">
                        <button
                          type="button"
                          class="small primary"
                          aria-label={t('tasks.dispatchOne', { name: task.name })}
                          onClick={() => dispatch(task.id)}
                          disabled={task.status !== 1}
                        >
                          {t('tasks.dispatch')}
                        </button>
                        <RowActions
                          editLabel={t('tasks.editOne', { name: task.name })}
                          deleteLabel={t('tasks.deleteOne', { name: task.name })}
                          onEdit={() => setEditing(task)}
                          onDelete={() => remove(task)}
                        />
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager total={data.tasks.length} limit={pageSize} offset={offset} onChange={setOffset} />
        </div>
      )}
      <Dialog
        title={editing === 'new' ? t('tasks.add') : t('common.edit')}
        open={editing !== undefined}
        onClose={() => setEditing(undefined)}
      >
        {data && editing ? (
          <TaskForm
            task={editing === 'new' ? undefined : editing}
            feeds={data.feeds}
            onSaved={() => {
              setEditing(undefined);
              reload();
            }}
          />
        ) : null}
      </Dialog>
      <FeedsSection onChanged={reload} />
    </section>
  );
}
