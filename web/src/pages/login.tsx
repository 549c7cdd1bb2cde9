import { useState } from 'preact/hooks';
import { ApiError, apiCall } from '../api';
import { saveToken } from '../auth';
import { Field, LanguageSelect } from '../components/bits';
import { t, type Locale } from '../i18n/i18n';

export function LoginPage({ onLoggedIn, onLocale }: { onLoggedIn: () => void; onLocale: (l: Locale) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await apiCall<{ access_token: string }>('/auth/login', { body: { username, password } });
      saveToken(data.access_token);
      onLoggedIn();
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401 ? t('login.wrong') : e instanceof Error ? e.message : String(e),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('login.title')}</h1>
        <p class="muted">{t('login.intro')}</p>
        <Field label={t('login.username')}>
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t('login.password')}>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Field>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {t('login.submit')}
        </button>
        <LanguageSelect onLocale={onLocale} />
      </form>
    </main>
  );
}
