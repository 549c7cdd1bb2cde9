import { currentSession, dropToken } from './auth';

export type Page<T> = { list: T[]; total: number; page: { limit: number; offset: number } };

/** An answer of the API that was not `code: 0`, with the server's message (shown to the user as is). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

let onUnauthenticated: () => void = () => undefined;

/** Called when the server answers 401: the token is dropped and the app returns to the login page. */
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

type Options = { method?: string; body?: unknown; query?: Record<string, string | number | undefined> };

/** Calls the public admin API with the session's token and unwraps the `{code, message, data}` envelope. */
export async function apiCall<T>(path: string, options: Options = {}): Promise<{ data: T; message: string }> {
  const session = currentSession();
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {}))
    if (value !== undefined && value !== '') query.set(key, String(value));
  const url = `/api/v1${path}${query.size ? `?${query}` : ''}`;
  const headers: Record<string, string> = {};
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const envelope = (await response.json().catch(() => ({ code: response.status, message: response.statusText }))) as {
    code: number;
    message: string;
    data: T;
    error?: string;
    details?: Array<{ path: string; message: string }>;
  };
  if (response.status === 401 && session) {
    dropToken();
    onUnauthenticated();
  }
  if (!response.ok || envelope.code !== 0)
    throw new ApiError(response.status, envelope.error ?? 'ERROR', envelope.message, envelope.details);
  return { data: envelope.data, message: envelope.message };
}

export async function get<T>(path: string, query?: Options['query']): Promise<T> {
  return (await apiCall<T>(path, { query })).data;
}
