import { useLocation } from 'preact-iso';
import { get, type Page } from '../api';
import { AllocationStatus, Empty, ErrorNote, FilterSelect, Loading, Pager, TableHead } from '../components/bits';
import { dateTime, relative } from '../format';
import { useLive, useNow } from '../hooks';
import { t, type MessageKey } from '../i18n/i18n';
import { ALLOCATION_STATUSES, type AllocationView, type NodeView, type TaskView } from '../types';

const LIMIT = 25;

async function loadFilters() {
  const [nodes, tasks] = await Promise.all([
    get<Page<NodeView>>('/cascade/nodes', { limit: 200 }),
    get<Page<TaskView>>('/message-tasks', { limit: 200 }),
  ]);
  return { nodes: nodes.list, tasks: tasks.list };
}

export function AllocationsPage() {
  const { query, path, route } = useLocation();
  const filter = { task_id: query.task_id, status: query.status, node_id: query.node_id, feed_id: query.feed_id };
  const offset = Number(query.offset ?? 0) || 0;
  const setQuery = (patch: Record<string, string | undefined>) => {
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filter, offset: undefined, ...patch }))
      if (value) next.set(key, value);
    route(`${path}${next.size ? `?${next}` : ''}`, true);
  };
  const choices = useLive(loadFilters, [], ['node', 'dispatch']);
  const { data, error } = useLive(
    () => get<Page<AllocationView>>('/cascade/allocations', { ...filter, limit: LIMIT, offset }),
    [filter.task_id, filter.status, filter.node_id, filter.feed_id, offset],
    ['allocation', 'dispatch'],
  );
  useNow(5000);
  const select = (name: keyof typeof filter, label: string, options: Array<{ value: string; label: string }>) => (
    <FilterSelect
      name={name}
      label={label}
      value={filter[name] ?? ''}
      options={options}
      onChange={(value) => setQuery({ [name]: value || undefined })}
    />
  );
  return (
    <section aria-labelledby="allocations-title">
      <h1 id="allocations-title">{t('nav.allocations')}</h1>
      <form class="filters" role="search" aria-label={t('allocations.filters')} onSubmit={(e) => e.preventDefault()}>
        {select(
          'task_id',
          t('allocations.task'),
          (choices.data?.tasks ?? []).map((x) => ({ value: x.id, label: x.name })),
        )}
        {select(
          'status',
          t('allocations.status'),
          ALLOCATION_STATUSES.map((s) => ({ value: s, label: t(`status.${s}` as MessageKey) })),
        )}
        {select(
          'node_id',
          t('allocations.node'),
          (choices.data?.nodes ?? []).map((x) => ({ value: x.id, label: x.name })),
        )}
        <label class="field inline">
          <span>{t('allocations.feed')}</span>
          <input
            name="feed_id"
            value={filter.feed_id ?? ''}
            placeholder={t('feeds.id')}
            onChange={(e) => setQuery({ feed_id: (e.target as HTMLInputElement).value.trim() || undefined })}
          />
        </label>
      </form>
      <ErrorNote error={error} />
      {!data ? (
        <Loading />
      ) : data.list.length === 0 ? (
        <Empty>{Object.values(filter).some(Boolean) ? t('common.noMatch') : t('allocations.empty')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead
              columns={[
                t('allocations.task'),
                t('allocations.status'),
                t('allocations.node'),
                t('allocations.feeds'),
                t('allocations.attempt'),
                t('allocations.dispatched'),
                t('allocations.error'),
              ]}
            />
            <tbody>
              {data.list.map((a) => (
                <tr key={a.id} data-allocation={a.id} data-status={a.status}>
                  <td>
                    <a href={`/allocations/${a.id}`}>{a.task_name}</a>
                  </td>
                  <td>
                    <AllocationStatus status={a.status} />
                    {a.stalled ? ' ' : null}
                    {a.stalled ? (
                      <span class="badge bad" data-testid="stalled" title={dateTime(a.stalled_at)}>
                        {t('allocations.stalled')}
                      </span>
                    ) : null}
                  </td>
                  <td>{a.node_name ?? t('allocations.unassigned')}</td>
                  <td>
                    {a.status === 'executing' && a.progress
                      ? `${a.progress.feeds_done} / ${a.feed_ids.length}`
                      : a.feed_ids.length}
                  </td>
                  <td>
                    {a.attempt} / {a.max_attempts}
                  </td>
                  <td title={dateTime(a.dispatched_at)}>{relative(a.dispatched_at)}</td>
                  <td class="error-cell">{a.error_message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            total={data.total}
            limit={LIMIT}
            offset={offset}
            onChange={(next) => setQuery({ offset: next ? String(next) : undefined })}
          />
        </div>
      )}
    </section>
  );
}
