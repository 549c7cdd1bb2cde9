import { useState } from 'preact/hooks';
import { get, type Page } from '../api';
import { Empty, ErrorNote, FilterSelect, Loading, Pager, TableHead } from '../components/bits';
import { dateTime, relative } from '../format';
import { useLive, useNow } from '../hooks';
import { t, type MessageKey } from '../i18n/i18n';
import type { NodeView } from '../types';

type SyncLog = {
  id: number;
  node_id: string | null;
  operation: string;
  direction: string;
  status: number;
  data_count: number;
  error_message: string | null;
  started_at: string | null;
};
const LIMIT = 50;

export function SyncLogsPage() {
  const [offset, setOffset] = useState(0);
  const [node, setNode] = useState('');
  const nodes = useLive(() => get<Page<NodeView>>('/cascade/nodes', { limit: 200 }), [], ['node']);
  const { data, error } = useLive(
    () => get<Page<SyncLog>>('/cascade/sync-logs', { node_id: node, limit: LIMIT, offset }),
    [node, offset],
    ['allocation'],
  );
  useNow(10_000);
  const nodeName = new Map((nodes.data?.list ?? []).map((n) => [n.id, n.name]));
  return (
    <section aria-labelledby="sync-title">
      <h1 id="sync-title">{t('nav.syncLogs')}</h1>
      <form class="filters" role="search" aria-label={t('sync.filters')} onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          name="node_id"
          label={t('allocations.node')}
          value={node}
          options={(nodes.data?.list ?? []).map((n) => ({ value: n.id, label: n.name }))}
          onChange={(value) => (setNode(value), setOffset(0))}
        />
      </form>
      <ErrorNote error={error} />
      {!data ? (
        <Loading />
      ) : data.list.length === 0 ? (
        <Empty>{t('sync.empty')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead
              columns={[
                t('sync.when'),
                t('allocations.node'),
                t('sync.operation'),
                t('allocations.status'),
                t('sync.count'),
                t('allocations.error'),
              ]}
            />
            <tbody>
              {data.list.map((log) => (
                <tr key={log.id}>
                  <td title={dateTime(log.started_at)}>{relative(log.started_at)}</td>
                  <td>{log.node_id ? (nodeName.get(log.node_id) ?? log.node_id) : '—'}</td>
                  <td>{t(`sync.op.${log.operation}` as MessageKey)}</td>
                  <td>
                    <span class={`badge ${log.status === 1 ? 'ok' : 'bad'}`}>
                      {log.status === 1 ? t('sync.ok') : t('sync.failed')}
                    </span>
                  </td>
                  <td>{log.data_count}</td>
                  <td class="error-cell">{log.error_message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager total={data.total} limit={LIMIT} offset={offset} onChange={setOffset} />
        </div>
      )}
    </section>
  );
}
