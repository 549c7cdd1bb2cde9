import { useRoute, useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { apiCall, get, type Page } from '../api';
import {
  AllocationStatus,
  Dialog,
  ErrorNote,
  Field,
  LoadBar,
  Loading,
  NodeStatus,
  TableHead,
} from '../components/bits';
import { CredentialsOnce } from '../components/credentials';
import { dateTime, relative } from '../format';
import { useIsAdmin, useLive, useNow } from '../hooks';
import { t } from '../i18n/i18n';
import { ALLOCATION_STATUSES, type AllocationView, type NodeView } from '../types';

async function loadNode(id: string) {
  const [node, recent, counts, lastFailure] = await Promise.all([
    get<NodeView>(`/cascade/nodes/${id}`),
    get<Page<AllocationView>>('/cascade/allocations', { node_id: id, limit: 20 }),
    Promise.all(
      ALLOCATION_STATUSES.map(
        async (s) =>
          [
            s,
            (await get<Page<AllocationView>>('/cascade/allocations', { node_id: id, status: s, limit: 1 })).total,
          ] as const,
      ),
    ),
    get<Page<AllocationView>>('/cascade/allocations', { node_id: id, status: 'failed', limit: 1 }),
  ]);
  return { node, recent, counts, lastError: lastFailure.list[0]?.error_message ?? null };
}

type QuotaRow = { feed: string; weight: string };

function EditNode({ node, onSaved }: { node: NodeView; onSaved: () => void }) {
  const [capacity, setCapacity] = useState(String(node.sync_config.max_capacity));
  const [rows, setRows] = useState<QuotaRow[]>(
    Object.entries(node.sync_config.feed_quota).map(([feed, weight]) => ({ feed, weight: String(weight) })),
  );
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const update = (i: number, patch: Partial<QuotaRow>) =>
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  async function save(event: Event) {
    event.preventDefault();
    setError(undefined);
    const feedQuota = Object.fromEntries(
      rows.filter((r) => r.feed.trim() !== '').map((r) => [r.feed.trim(), Number(r.weight)]),
    );
    try {
      await apiCall(`/cascade/nodes/${node.id}`, {
        method: 'PUT',
        body: { sync_config: { max_capacity: Number(capacity), feed_quota: feedQuota } },
      });
      setMessage(t('nodes.saved'));
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form onSubmit={save} class="card" aria-label={t('nodes.syncConfig')}>
      <h2>{t('nodes.syncConfig')}</h2>
      <Field label={t('nodes.capacity')}>
        <input
          name="max_capacity"
          type="number"
          min={1}
          max={10000}
          required
          value={capacity}
          onInput={(e) => setCapacity((e.target as HTMLInputElement).value)}
        />
      </Field>
      <fieldset>
        <legend>{t('nodes.feedQuota')}</legend>
        <p class="muted">{t('nodes.feedQuotaHint')}</p>
        {rows.map((row, i) => (
          <div class="quota-row" key={i}>
            <input
              aria-label={t('nodes.quotaFeed', { n: i + 1 })}
              placeholder={t('nodes.feedId')}
              value={row.feed}
              onInput={(e) => update(i, { feed: (e.target as HTMLInputElement).value })}
            />
            <input
              aria-label={t('nodes.quotaWeight', { n: i + 1 })}
              type="number"
              min={0}
              value={row.weight}
              onInput={(e) => update(i, { weight: (e.target as HTMLInputElement).value })}
            />
            <button
              type="button"
              class="small"
              aria-label={t('nodes.quotaRemove', { n: i + 1 })}
              onClick={() => setRows(rows.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        ))}
        <button type="button" class="small" onClick={() => setRows([...rows, { feed: '', weight: '1' }])}>
          {t('nodes.quotaAdd')}
        </button>
      </fieldset>
      <ErrorNote error={error} />
      {message ? <p role="status">{message}</p> : null}
      <button type="submit" class="primary">
        {t('common.save')}
      </button>
    </form>
  );
}

function NodeActions({ node, onChanged }: { node: NodeView; onChanged: () => void }) {
  const { route } = useLocation();
  const [creds, setCreds] = useState<{ api_key: string; api_secret: string } | undefined>();
  const [probe, setProbe] = useState<string | undefined>();
  const [confirm, setConfirm] = useState<'remove' | 'rotate' | undefined>();
  const [error, setError] = useState<string | undefined>();
  const run = async (action: () => Promise<void>) => {
    setError(undefined);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div class="actions">
      <button
        type="button"
        onClick={() =>
          run(
            async () =>
              void (
                await apiCall(`/cascade/nodes/${node.id}`, { method: 'PUT', body: { is_active: !node.is_active } }),
                onChanged()
              ),
          )
        }
      >
        {node.is_active ? t('nodes.disable') : t('nodes.enable')}
      </button>
      {node.node_type === 1 ? (
        <button type="button" onClick={() => setConfirm('rotate')}>
          {t('nodes.rotate')}
        </button>
      ) : null}
      <button
        type="button"
        disabled={!node.api_url}
        title={node.api_url ? undefined : t('nodes.noApiUrl')}
        onClick={() =>
          run(async () => {
            const { data } = await apiCall<{ connected: boolean; latency_ms: number; error?: string }>(
              `/cascade/nodes/${node.id}/test-connection`,
              { body: {} },
            );
            setProbe(
              data.connected
                ? t('nodes.probeOk', { ms: data.latency_ms })
                : t('nodes.probeFailed', { error: data.error ?? '' }),
            );
          })
        }
      >
        {t('nodes.test')}
      </button>
      <button type="button" class="danger" onClick={() => setConfirm('remove')}>
        {t('nodes.remove')}
      </button>
      {probe ? <p role="status">{probe}</p> : null}
      <ErrorNote error={error} />
      <Dialog
        title={t('nodes.rotate')}
        open={confirm === 'rotate' || creds !== undefined}
        onClose={() => (setConfirm(undefined), setCreds(undefined))}
      >
        {creds ? (
          <CredentialsOnce apiKey={creds.api_key} apiSecret={creds.api_secret} />
        ) : (
          <>
            <p>{t('nodes.rotateConfirm', { name: node.name })}</p>
            <button
              type="button"
              class="danger"
              onClick={() =>
                run(async () =>
                  setCreds(
                    (
                      await apiCall<{ api_key: string; api_secret: string }>(`/cascade/nodes/${node.id}/credentials`, {
                        method: 'POST',
                      })
                    ).data,
                  ),
                )
              }
            >
              {t('nodes.rotate')}
            </button>
          </>
        )}
      </Dialog>
      <Dialog title={t('nodes.remove')} open={confirm === 'remove'} onClose={() => setConfirm(undefined)}>
        <p>{t('nodes.removeConfirm', { name: node.name, load: node.current_tasks })}</p>
        <button
          type="button"
          class="danger"
          onClick={() =>
            run(async () => (await apiCall(`/cascade/nodes/${node.id}`, { method: 'DELETE' }), route('/nodes')))
          }
        >
          {t('nodes.removeYes')}
        </button>
        <button type="button" onClick={() => setConfirm(undefined)}>
          {t('common.cancel')}
        </button>
      </Dialog>
    </div>
  );
}

export function NodeDetailPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const admin = useIsAdmin();
  const { data, error, reload } = useLive(() => loadNode(id), [id], ['node', 'allocation']);
  useNow(1000);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading />;
  const { node, recent, counts, lastError } = data;
  return (
    <section aria-labelledby="node-title">
      <p>
        <a href="/nodes">← {t('nav.nodes')}</a>
      </p>
      <h1 id="node-title">
        {node.name} <NodeStatus status={node.status} />
      </h1>
      <ErrorNote error={error} />
      <dl class="facts">
        <dt>{t('nodes.heartbeat')}</dt>
        <dd>{relative(node.last_heartbeat_at)}</dd>
        <dt>{t('nodes.load')}</dt>
        <dd>
          <LoadBar
            load={node.current_tasks}
            capacity={node.sync_config.max_capacity}
            label={t('nodes.loadOf', { name: node.name })}
          />
        </dd>
        <dt>{t('nodes.version')}</dt>
        <dd>{node.version ?? '—'}</dd>
        <dt>{t('nodes.host')}</dt>
        <dd>{node.hostname ?? '—'}</dd>
        <dt>{t('nodes.apiUrl')}</dt>
        <dd>{node.api_url ?? '—'}</dd>
        <dt>api_key</dt>
        <dd>
          <code>{node.api_key ?? '—'}</code>
        </dd>
        <dt>{t('nodes.lastError')}</dt>
        <dd data-testid="last-error">{lastError ?? '—'}</dd>
      </dl>
      {admin ? <NodeActions node={node} onChanged={reload} /> : null}
      <article class="card" aria-label={t('nodes.placementStats')}>
        <h2>{t('nodes.placementStats')}</h2>
        <ul class="status-list">
          {counts.map(([s, n]) => (
            <li key={s}>
              <a href={`/allocations?node_id=${node.id}&status=${s}`}>
                <AllocationStatus status={s} /> <strong>{n}</strong>
              </a>
            </li>
          ))}
        </ul>
      </article>
      {admin ? <EditNode key={node.id} node={node} onSaved={reload} /> : null}
      <article class="card" aria-label={t('nodes.recent')}>
        <h2>{t('nodes.recent')}</h2>
        {recent.list.length === 0 ? (
          <p class="empty">{t('nodes.noAllocations')}</p>
        ) : (
          <table>
            <TableHead
              columns={[
                t('allocations.task'),
                t('allocations.status'),
                t('allocations.feeds'),
                t('allocations.dispatched'),
              ]}
            />
            <tbody>
              {recent.list.map((a) => (
                <tr key={a.id}>
                  <td>
                    <a href={`/allocations/${a.id}`}>{a.task_name}</a>
                  </td>
                  <td>
                    <AllocationStatus status={a.status} />
                  </td>
                  <td>{a.feed_ids.length}</td>
                  <td title={dateTime(a.dispatched_at)}>{relative(a.dispatched_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </article>
    </section>
  );
}
