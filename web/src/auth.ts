/** The login token lives in this tab only (sessionStorage): closing the tab logs out, other tabs log in themselves. */
const TOKEN_KEY = 'cascade.token';

export type Session = { token: string; username: string; role: 'admin' | 'viewer'; expiresAt: number };

function decodeClaims(token: string): Omit<Session, 'token'> | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
      username?: string;
      role?: string;
      exp?: number;
    };
    if (json.role !== 'admin' && json.role !== 'viewer') return null;
    return { username: String(json.username ?? ''), role: json.role, expiresAt: Number(json.exp ?? 0) * 1000 };
  } catch {
    return null;
  }
}

/** The current session, or null. The role only decides what the page offers; the server decides what is allowed. */
export function currentSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodeClaims(token);
  if (!claims || claims.expiresAt <= Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return { token, ...claims };
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function dropToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
