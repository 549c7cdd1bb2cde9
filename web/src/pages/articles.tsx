import { useLocation } from 'preact-iso';
import { get, type Page } from '../api';
import { Empty, ErrorNote, FilterSelect, Loading, Pager, TableHead } from '../components/bits';
import { dateTime } from '../format';
import { useLive } from '../hooks';
import { t } from '../i18n/i18n';
import type { FeedView } from '../types';

type Article = {
  id: string;
  mp_id: string;
  title: string;
  url: string;
  publish_time: number;
  created_at: string | null;
};
const LIMIT = 25;

export function ArticlesPage() {
  const { query, path, route } = useLocation();
  const feed = query.mp_id ?? '';
  const search = query.search ?? '';
  const offset = Number(query.offset ?? 0) || 0;
  const setQuery = (patch: Record<string, string>) => {
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries({ mp_id: feed, search, offset: '', ...patch }))
      if (value) next.set(key, value);
    route(`${path}${next.size ? `?${next}` : ''}`, true);
  };
  const feeds = useLive(() => get<Page<FeedView>>('/feeds', { limit: 200 }), [], []);
  const { data, error } = useLive(
    () => get<Page<Article>>('/articles', { mp_id: feed, search, limit: LIMIT, offset }),
    [feed, search, offset],
    ['allocation'],
  );
  const feedName = new Map((feeds.data?.list ?? []).map((f) => [f.id, f.mp_name || f.id]));
  return (
    <section aria-labelledby="articles-title">
      <h1 id="articles-title">{t('nav.articles')}</h1>
      <form class="filters" role="search" aria-label={t('articles.filters')} onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          name="mp_id"
          label={t('articles.feed')}
          value={feed}
          options={(feeds.data?.list ?? []).map((f) => ({ value: f.id, label: f.mp_name || f.id }))}
          onChange={(value) => setQuery({ mp_id: value })}
        />
        <label class="field inline">
          <span>{t('articles.search')}</span>
          <input
            type="search"
            name="search"
            value={search}
            onChange={(e) => setQuery({ search: (e.target as HTMLInputElement).value.trim() })}
          />
        </label>
      </form>
      <ErrorNote error={error} />
      {!data ? (
        <Loading />
      ) : data.list.length === 0 ? (
        <Empty>{feed || search ? t('common.noMatch') : t('articles.empty')}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <TableHead columns={[t('articles.title'), t('articles.feed'), t('articles.published')]} />
            <tbody>
              {data.list.map((a) => (
                <tr key={`${a.mp_id}/${a.id}`}>
                  <td>
                    {/^https?:\/\//.test(a.url) ? (
                      <a href={a.url} target="_blank" rel="noopener noreferrer">
                        {a.title || a.url}
                      </a>
                    ) : (
                      a.title
                    )}
                  </td>
                  <td>{feedName.get(a.mp_id) ?? a.mp_id}</td>
                  <td>{a.publish_time ? dateTime(a.publish_time * 1000) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            total={data.total}
            limit={LIMIT}
            offset={offset}
            onChange={(next) => setQuery({ offset: next ? String(next) : '' })}
          />
        </div>
      )}
    </section>
  );
}
