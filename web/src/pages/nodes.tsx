import { useState } from 'preact/hooks';
import { apiCall, get, type Page } from '../api';
import { Dialog, Empty, ErrorNote, Field, LoadBar, Loading, NodeStatus, TableHead } from '../components/bits';
import { CredentialsOnce } from '../components/credentials';
import { relative } from '../format';
import { useIsAdmin, useLive, useNow } from '../hooks';
import { t } from '../i18n/i18n';
import type { AllocationView, NodeView } from '../types';

/** Nodes with the error of their latest failed allocation (one request for the whole list, newest first). */
async function loadNodes() {
  const [nodes, failed] = await Promise.all([
    get<Page<NodeView>>('/cascade/nodes', { limit: 200 }),
    get<Page<AllocationView>>('/cascade/allocations', { status: 'failed', limit: 200 }),
  ]);
  const lastError = new Map<string, string>();
  for (const a of failed.list)
    if (a.node_id && a.error_message && !lastError.has(a.node_id)) lastError.set(a.node_id, a.error_message);
  return { list: nodes.list, lastError };
}

type Created = NodeView & { api_key: string; api_secret: string };

function AddNode({ onDone }: { onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [apiUrl, setApiUrl] = useState('');
  const [capacity, setCapacity] = useState('10');
  const [created, setCreated] = useState<Created | undefined>();
  const [error, setError] = useState<string | undefined>();
  async function submit(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      const body = {
        node_type: 1,
        name,
        ...(apiUrl ? { api_url: apiUrl } : {}),
        sync_config: { max_capacity: Number(capacity) },
      };
      setCreated((await apiCall<Created>('/cascade/nodes', { body })).data);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  const close = () => {
    setOpen(false);
    setCreated(undefined);
    setName('');
    setApiUrl('');
  };
  return (
    <>
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        {t('nodes.add')}
      </button>
      <Dialog title={t('nodes.add')} open={open} onClose={close}>
        {created ? (
          <>
            <CredentialsOnce apiKey={created.api_key} apiSecret={created.api_secret} />
            <button type="button" onClick={close}>
              {t('common.done')}
            </button>
          </>
        ) : (
          <form onSubmit={submit}>
            <Field label={t('nodes.name')}>
              <input
                name="name"
                required
                maxLength={191}
                value={name}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            </Field>
            <Field label={t('nodes.apiUrl')} hint={t('nodes.apiUrlHint')}>
              <input
                name="api_url"
                type="url"
                placeholder="http://child-host:8002"
                value={apiUrl}
                onInput={(e) => setApiUrl((e.target as HTMLInputElement).value)}
              />
            </Field>
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
            <ErrorNote error={error} />
            <button type="submit" class="primary">
              {t('common.create')}
            </button>
          </form>
        )}
      </Dialog>
    </>
  );
}

export function NodesPage() {
  const admin = useIsAdmin();
  const { data, error, reload } = useLive(loadNodes, [], ['node', 'allocation']);
  useNow(1000);
  return (
    <section aria-labelledby="nodes-title">
      <div class="title-row">
        <h1 id="nodes-title">{t('nav.nodes')}</h1>
        {admin ? <AddNode onDone={reload} /> : null}
      </div>
      <ErrorNote error={error} />
      {!data ? (
        <Loading />
      ) : data.list.length === 0 ? (
        <Empty>{admin ? t('nodes.empty') : t('nodes.emptyViewer')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead
              columns={[
                t('nodes.name'),
                t('nodes.status'),
                t('nodes.heartbeat'),
                t('nodes.load'),
                t('nodes.version'),
                t('nodes.lastError'),
              ]}
            />
            <tbody>
              {data.list.map((n) => (
                <tr key={n.id} data-node={n.name}>
                  <td>
                    <a href={`/nodes/${n.id}`}>{n.name}</a>
                    {n.node_type === 0 ? <small class="muted"> · {t('nodes.parent')}</small> : null}
                  </td>
                  <td>
                    <NodeStatus status={n.status} />
                  </td>
                  <td>{relative(n.last_heartbeat_at)}</td>
                  <td>
                    <LoadBar
                      load={n.current_tasks}
                      capacity={n.sync_config.max_capacity}
                      label={t('nodes.loadOf', { name: n.name })}
                    />
                  </td>
                  <td>{n.version ?? '—'}</td>
                  <td class="error-cell">{data.lastError.get(n.id) ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
