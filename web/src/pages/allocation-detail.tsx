import { useRoute } from 'preact-iso';
import { useState } from 'preact/hooks';
import { apiCall, get } from '../api';
import { AllocationStatus, ErrorNote, Loading, TableHead } from '../components/bits';
import { bytes, dateTime, relative } from '../format';
import { useIsAdmin, useLive, useNow } from '../hooks';
import { t, type MessageKey } from '../i18n/i18n';
import type { AllocationView } from '../types';

type FeedResult = {
  mp_id: string;
  status: 'success' | 'failed';
  article_count: number;
  new_article_count?: number;
  error?: string | null;
};

const LIVE = ['pending', 'claimed', 'executing'];
const RETRYABLE = ['failed', 'timeout', 'cancelled'];

export function AllocationDetailPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const admin = useIsAdmin();
  const { data, error, reload } = useLive(
    () => get<AllocationView>(`/cascade/allocations/${id}`),
    [id],
    ['allocation'],
  );
  const [actionError, setActionError] = useState<string | undefined>();
  useNow(5000);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading />;
  const a = data;
  const results = ((a.result_summary as { results?: FeedResult[] } | null)?.results ?? []) as FeedResult[];
  const act = async (action: 'cancel' | 'retry') => {
    setActionError(undefined);
    try {
      await apiCall(`/cascade/allocations/${a.id}/${action}`, { method: 'POST' });
      reload();
    } catch (e) {
      setActionError((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="allocation-title">
      <p>
        <a href="/allocations">← {t('nav.allocations')}</a>
      </p>
      <h1 id="allocation-title">
        {a.task_name} <AllocationStatus status={a.status} />
        {a.stalled ? ' ' : null}
        {a.stalled ? (
          <span class="badge bad" data-testid="stalled">
            {t('allocations.stalled')}
          </span>
        ) : null}
      </h1>
      <ErrorNote error={error ?? actionError} />
      {admin ? (
        <div class="actions">
          {LIVE.includes(a.status) ? (
            <button type="button" class="danger" onClick={() => act('cancel')}>
              {t('allocations.cancel')}
            </button>
          ) : null}
          {RETRYABLE.includes(a.status) ? (
            <button type="button" class="primary" onClick={() => act('retry')}>
              {t('allocations.retry')}
            </button>
          ) : null}
        </div>
      ) : null}
      <dl class="facts">
        <dt>{t('allocations.node')}</dt>
        <dd>
          {a.node_id ? <a href={`/nodes/${a.node_id}`}>{a.node_name ?? a.node_id}</a> : t('allocations.unassigned')}
        </dd>
        <dt>{t('allocations.placement')}</dt>
        <dd data-testid="placement">{a.placement || '—'}</dd>
        <dt>{t('allocations.attempt')}</dt>
        <dd>
          {a.attempt} / {a.max_attempts}
        </dd>
        {a.status === 'executing' && a.progress ? (
          <>
            <dt>{t('allocations.progress')}</dt>
            <dd data-testid="progress">
              {t('allocations.progressValue', {
                done: a.progress.feeds_done,
                total: a.feed_ids.length,
                bytes: bytes(a.progress.bytes_read),
              })}
              {a.progress.last_progress_at
                ? ` (${t('allocations.progressAt', { when: relative(a.progress.last_progress_at) })})`
                : ''}
              {a.stalled ? (
                <p class="error-cell">
                  {t('allocations.stalledSince', { when: dateTime(a.progress.last_progress_at ?? a.stalled_at) })}
                </p>
              ) : null}
            </dd>
          </>
        ) : null}
        <dt>{t('allocations.dispatched')}</dt>
        <dd>
          {dateTime(a.dispatched_at)} ({relative(a.dispatched_at)})
        </dd>
        <dt>{t('allocations.finished')}</dt>
        <dd>{dateTime(a.completed_at)}</dd>
        <dt>{t('allocations.articles')}</dt>
        <dd>{t('allocations.articleCounts', { total: a.article_count, fresh: a.new_article_count })}</dd>
        <dt>{t('allocations.error')}</dt>
        <dd class="error-cell" data-testid="allocation-error">
          {a.error_message ?? '—'}
        </dd>
        <dt>{t('allocations.feeds')}</dt>
        <dd>{a.feed_ids.join(', ')}</dd>
      </dl>
      <article class="card wide" aria-label={t('allocations.results')}>
        <h2>{t('allocations.results')}</h2>
        {results.length === 0 ? (
          <p class="muted">{t('allocations.noResults')}</p>
        ) : (
          <table>
            <TableHead
              columns={[
                t('allocations.feed'),
                t('allocations.status'),
                t('allocations.articles'),
                t('allocations.error'),
              ]}
            />
            <tbody>
              {results.map((r) => (
                <tr key={r.mp_id}>
                  <td>{r.mp_id}</td>
                  <td>
                    <span class={`badge ${r.status === 'success' ? 'ok' : 'bad'}`}>
                      {r.status === 'success' ? t('allocations.feedOk') : t('allocations.feedFailed')}
                    </span>
                  </td>
                  <td>{r.article_count}</td>
                  <td class="error-cell">{r.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </article>
      <article class="card wide" aria-label={t('allocations.attempts')}>
        <h2>{t('allocations.attempts')}</h2>
        {(a.attempts ?? []).length === 0 ? (
          <p class="muted">{t('allocations.noAttempts')}</p>
        ) : (
          <table>
            <TableHead
              columns={[
                '#',
                t('allocations.node'),
                t('allocations.claimed'),
                t('allocations.ended'),
                t('allocations.outcome'),
                t('allocations.error'),
              ]}
            />
            <tbody>
              {(a.attempts ?? []).map((x) => (
                <tr key={x.attempt}>
                  <td>{x.attempt}</td>
                  <td>{x.node_name ?? x.node_id}</td>
                  <td>{dateTime(x.claimed_at)}</td>
                  <td>{dateTime(x.ended_at)}</td>
                  <td>{x.outcome ? t(`outcome.${x.outcome}` as MessageKey) : '—'}</td>
                  <td class="error-cell">{x.error_message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </article>
    </section>
  );
}
