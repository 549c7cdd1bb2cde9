import { useState } from 'preact/hooks';
import { apiCall, get, type Page } from '../api';
import { Dialog, Empty, ErrorNote, Field, Loading, Pager, RowActions, TableHead } from '../components/bits';
import { dateTime, duration, relative } from '../format';
import { useIsAdmin, useLive } from '../hooks';
import { t } from '../i18n/i18n';
import type { FeedView } from '../types';

function FeedForm({ feed, onSaved }: { feed?: FeedView; onSaved: () => void }) {
  const [id, setId] = useState(feed?.id ?? '');
  const [name, setName] = useState(feed?.mp_name ?? '');
  const [url, setUrl] = useState(feed?.url ?? '');
  const [enabled, setEnabled] = useState((feed?.status ?? 1) === 1);
  const [error, setError] = useState<string | undefined>();
  async function save(event: Event) {
    event.preventDefault();
    setError(undefined);
    const body = { mp_name: name, url, status: enabled ? 1 : 0, ...(!feed && id ? { id } : {}) };
    try {
      await apiCall(feed ? `/feeds/${encodeURIComponent(feed.id)}` : '/feeds', { method: feed ? 'PUT' : 'POST', body });
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form onSubmit={save}>
      {feed ? null : (
        <Field label={t('feeds.id')} hint={t('feeds.idHint')}>
          <input name="id" maxLength={191} value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        </Field>
      )}
      <Field label={t('feeds.name')}>
        <input
          name="mp_name"
          maxLength={500}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field label={t('feeds.url')}>
        <input
          name="url"
          type="url"
          required
          value={url}
          placeholder="https://example.org/feed.xml"
          onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
        />
      </Field>
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)} />{' '}
        {t('common.enabled')}
      </label>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        {t('common.save')}
      </button>
    </form>
  );
}

/** The feeds half of "Tasks and feeds": a task names feeds, so both are edited on one page. */
export function FeedsSection({ onChanged }: { onChanged: () => void }) {
  const admin = useIsAdmin();
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState('');
  const limit = 50;
  const { data, error, reload } = useLive(
    () => get<Page<FeedView>>('/feeds', { limit, offset, search }),
    [offset, search],
    ['allocation'],
  );
  const [editing, setEditing] = useState<FeedView | 'new' | undefined>();
  const [actionError, setActionError] = useState<string | undefined>();
  const changed = () => {
    setEditing(undefined);
    reload();
    onChanged();
  };
  async function remove(feed: FeedView) {
    if (!window.confirm(t('feeds.deleteConfirm', { name: feed.mp_name || feed.id }))) return;
    try {
      await apiCall(`/feeds/${encodeURIComponent(feed.id)}`, { method: 'DELETE' });
      changed();
    } catch (e) {
      setActionError((e as Error).message);
    }
  }
  return (
    <section aria-labelledby="feeds-title" class="card wide">
      <div class="title-row">
        <h2 id="feeds-title">{t('feeds.title')}</h2>
        {admin ? (
          <button type="button" onClick={() => setEditing('new')}>
            {t('feeds.add')}
          </button>
        ) : null}
      </div>
      <input
        type="search"
        aria-label={t('feeds.search')}
        placeholder={t('feeds.search')}
        value={search}
        onInput={(e) => (setSearch((e.target as HTMLInputElement).value), setOffset(0))}
      />
      <ErrorNote error={error ?? actionError} />
      {!data ? (
        <Loading />
      ) : data.list.length === 0 ? (
        <Empty>{search ? t('common.noMatch') : admin ? t('feeds.empty') : t('feeds.emptyViewer')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead
              columns={[
                t('feeds.name'),
                t('feeds.url'),
                t('feeds.updated'),
                t('feeds.nextDue'),
                t('feeds.interval'),
                t('feeds.articles'),
                ...(admin ? [t('common.actions')] : []),
              ]}
            />
            <tbody>
              {data.list.map((feed) => (
                <tr key={feed.id}>
                  <td>
                    {feed.mp_name || feed.id}
                    {feed.status !== 1 ? <small class="muted"> · {t('common.disabled')}</small> : null}
                  </td>
                  <td class="url">{feed.url}</td>
                  <td>
                    {feed.update_time
                      ? relative(new Date(feed.update_time * 1000).toISOString())
                      : t('freshness.unknown')}
                  </td>
                  <td title={feed.next_due_at ? dateTime(feed.next_due_at) : undefined}>
                    {!feed.next_due_at || Date.parse(feed.next_due_at) <= Date.now()
                      ? t('feeds.dueNow')
                      : relative(feed.next_due_at)}
                  </td>
                  <td>
                    {feed.refresh_interval_seconds
                      ? duration(feed.refresh_interval_seconds)
                      : t('feeds.intervalLearning')}
                  </td>
                  <td>{feed.article_count}</td>
                  {admin ? (
                    <td class="actions">
                      <RowActions
                        editLabel={t('feeds.editOne', { name: feed.mp_name || feed.id })}
                        deleteLabel={t('feeds.deleteOne', { name: feed.mp_name || feed.id })}
                        onEdit={() => setEditing(feed)}
                        onDelete={() => remove(feed)}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          <Pager total={data.total} limit={limit} offset={offset} onChange={setOffset} />
        </div>
      )}
      <Dialog
        title={editing === 'new' ? t('feeds.add') : t('common.edit')}
        open={editing !== undefined}
        onClose={() => setEditing(undefined)}
      >
        {editing ? <FeedForm feed={editing === 'new' ? undefined : editing} onSaved={changed} /> : null}
      </Dialog>
    </section>
  );
}
