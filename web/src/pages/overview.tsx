import { get, type Page } from '../api';
import { AllocationStatus, Empty, ErrorNote, LoadBar, Loading, TableHead } from '../components/bits';
import { ThroughputChart } from '../components/throughput-chart';
import { dateTime, relative } from '../format';
import { useLive, useNow } from '../hooks';
import { t, type MessageKey } from '../i18n/i18n';
import { ALLOCATION_STATUSES, type Activity, type NodeView } from '../types';

async function loadOverview() {
  const [nodes, activity] = await Promise.all([
    get<Page<NodeView>>('/cascade/nodes', { node_type: 1, limit: 200 }),
    get<Activity>('/cascade/activity', { minutes: 60 }),
  ]);
  return { nodes: nodes.list, activity };
}

export function OverviewPage() {
  const { data, error } = useLive(loadOverview, []);
  useNow(5000);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading />;
  const { nodes, activity } = data;
  const count = (status: number) => nodes.filter((n) => n.status === status).length;
  const online = nodes.filter((n) => n.status === 1);
  const load = online.reduce((sum, n) => sum + n.current_tasks, 0);
  const capacity = online.reduce((sum, n) => sum + n.sync_config.max_capacity, 0);
  const finished = activity.finished_per_minute.reduce((sum, m) => sum + m.completed + m.failed, 0);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">{t('nav.overview')}</h1>
      <ErrorNote error={error} />
      <div class="cards">
        <article class="card" aria-label={t('overview.nodes')}>
          <h2>{t('overview.nodes')}</h2>
          {nodes.length === 0 ? (
            <Empty>
              {t('nodes.empty')} <a href="/nodes">{t('nodes.add')}</a>
            </Empty>
          ) : (
            <dl class="stats">
              <div>
                <dt>{t('node.online')}</dt>
                <dd data-testid="nodes-online">{count(1)}</dd>
              </div>
              <div>
                <dt>{t('node.offline')}</dt>
                <dd>{count(0)}</dd>
              </div>
              <div>
                <dt>{t('node.disabled')}</dt>
                <dd>{count(2)}</dd>
              </div>
            </dl>
          )}
        </article>
        <article class="card" aria-label={t('overview.fleetLoad')}>
          <h2>{t('overview.fleetLoad')}</h2>
          <LoadBar load={load} capacity={capacity} label={t('overview.fleetLoad')} />
          <p class="muted">{t('overview.loadHint', { online: online.length })}</p>
        </article>
        <article class="card" aria-label={t('overview.byStatus')}>
          <h2>{t('overview.byStatus')}</h2>
          <ul class="status-list">
            {ALLOCATION_STATUSES.map((s) => (
              <li key={s}>
                <a href={`/allocations?status=${s}`}>
                  <AllocationStatus status={s} />{' '}
                  <strong data-testid={`count-${s}`}>{activity.allocations_by_status[s] ?? 0}</strong>
                </a>
              </li>
            ))}
          </ul>
        </article>
        <article class="card" aria-label={t('overview.freshness')}>
          <h2>{t('overview.freshness')}</h2>
          <ul class="status-list">
            {(['fresh', 'recent', 'stale', 'outdated', 'unknown'] as const).map((f) => (
              <li key={f}>
                <span class={`badge fresh-${f}`}>{t(`freshness.${f}` as MessageKey)}</span>{' '}
                <strong>{activity.feeds_by_freshness[f]}</strong>
              </li>
            ))}
          </ul>
        </article>
      </div>
      <article class="card wide" aria-label={t('overview.perMinute')}>
        <h2>{t('overview.perMinute')}</h2>
        {finished === 0 ? <p class="muted">{t('overview.noFinished')}</p> : null}
        <ThroughputChart minutes={activity.finished_per_minute} />
      </article>
      <article class="card wide" aria-label={t('overview.nextRuns')}>
        <h2>{t('overview.nextRuns')}</h2>
        {activity.cron.length === 0 ? (
          <Empty>
            {t('overview.noCron')} <a href="/tasks">{t('nav.tasks')}</a>
          </Empty>
        ) : (
          <table>
            <TableHead columns={[t('tasks.name'), t('tasks.cron'), t('tasks.nextRun')]} />
            <tbody>
              {activity.cron.map((c) => (
                <tr key={c.task_id}>
                  <td>{c.task_name}</td>
                  <td>
                    <code>{c.cron_exp}</code>
                  </td>
                  <td>
                    {c.error ? (
                      <span class="error">{t('tasks.badCron')}</span>
                    ) : c.next_runs[0] ? (
                      `${relative(c.next_runs[0])} (${dateTime(c.next_runs[0])})`
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </article>
    </section>
  );
}
