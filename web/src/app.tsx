import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { setUnauthenticatedHandler } from './api';
import { currentSession, dropToken, type Session } from './auth';
import { liveFeed } from './events';
import { SessionContext, useConnectionState } from './hooks';
import { LanguageSelect } from './components/bits';
import { locale, setLocale, t, type Locale, type MessageKey } from './i18n/i18n';
import { AllocationDetailPage } from './pages/allocation-detail';
import { AllocationsPage } from './pages/allocations';
import { ArticlesPage } from './pages/articles';
import { LoginPage } from './pages/login';
import { NodeDetailPage } from './pages/node-detail';
import { NodesPage } from './pages/nodes';
import { OverviewPage } from './pages/overview';
import { SyncLogsPage } from './pages/sync-logs';
import { TasksPage } from './pages/tasks';

const NAV: ReadonlyArray<{ href: string; key: MessageKey }> = [
  { href: '/', key: 'nav.overview' },
  { href: '/nodes', key: 'nav.nodes' },
  { href: '/tasks', key: 'nav.tasks' },
  { href: '/allocations', key: 'nav.allocations' },
  { href: '/articles', key: 'nav.articles' },
  { href: '/sync-logs', key: 'nav.syncLogs' },
];

function LiveIndicator() {
  const state = useConnectionState();
  return (
    <span class={`live ${state}`} role="status" aria-live="polite">
      {t(`live.${state}` as MessageKey)}
    </span>
  );
}

function Shell({
  session,
  onLogout,
  onLocale,
}: {
  session: Session;
  onLogout: () => void;
  onLocale: (l: Locale) => void;
}) {
  const { path } = useLocation();
  useEffect(() => {
    liveFeed.start();
    return () => liveFeed.stop();
  }, []);
  return (
    <SessionContext.Provider value={session}>
      <header class="top">
        <a href="/" class="brand">
          Cascade
        </a>
        <nav aria-label={t('nav.main')}>
          {NAV.map((item) => (
            <a
              key={item.href}
              href={item.href}
              aria-current={(item.href === '/' ? path === '/' : path.startsWith(item.href)) ? 'page' : undefined}
            >
              {t(item.key)}
            </a>
          ))}
        </nav>
        <div class="who">
          <LiveIndicator />
          <LanguageSelect onLocale={onLocale} />
          <span class="muted" title={t(`role.${session.role}`)}>
            {session.username} · {t(`role.${session.role}`)}
          </span>
          <button type="button" class="small" onClick={onLogout}>
            {t('common.logout')}
          </button>
        </div>
      </header>
      <main>
        <Router>
          <Route path="/" component={OverviewPage} />
          <Route path="/nodes" component={NodesPage} />
          <Route path="/nodes/:id" component={NodeDetailPage} />
          <Route path="/tasks" component={TasksPage} />
          <Route path="/allocations" component={AllocationsPage} />
          <Route path="/allocations/:id" component={AllocationDetailPage} />
          <Route path="/articles" component={ArticlesPage} />
          <Route path="/sync-logs" component={SyncLogsPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <section>
      <h1>{t('common.notFound')}</h1>
      <a href="/">{t('nav.overview')}</a>
    </section>
  );
}

function Gate() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [lang, setLang] = useState(locale.value);
  const { route, url } = useLocation();
  useEffect(() => {
    setUnauthenticatedHandler(() => {
      liveFeed.stop();
      setSession(null);
    });
  }, []);
  useEffect(() => {
    document.title = `Cascade · ${t('app.title')}`;
  }, [lang]);
  const changeLocale = (next: Locale) => {
    setLocale(next);
    setLang(next);
  };
  if (!session) {
    return (
      <LoginPage
        key={lang}
        onLocale={changeLocale}
        onLoggedIn={() => {
          setSession(currentSession());
          if (url.startsWith('/login')) route('/');
        }}
      />
    );
  }
  return (
    <Shell
      key={lang}
      session={session}
      onLocale={changeLocale}
      onLogout={() => {
        dropToken();
        liveFeed.stop();
        setSession(null);
      }}
    />
  );
}

export function App() {
  return (
    <LocationProvider>
      <Gate />
    </LocationProvider>
  );
}
