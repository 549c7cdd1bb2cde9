/** A tiny real HTTP client for tests: no mocks, just fetch against 127.0.0.1. */
export type ApiResponse<T = unknown> = {
  status: number;
  headers: Headers;
  body: { code: number; message: string; data: T; error?: string; details?: Array<{ path: string; message: string }> };
};

export type ApiOptions = {
  method?: string;
  json?: unknown;
  rawBody?: string | Uint8Array;
  contentType?: string;
  token?: string;
  aksk?: { api_key: string; api_secret: string };
  headers?: Record<string, string>;
  /** Aborting it closes the connection, as a child that goes away does. */
  signal?: AbortSignal;
};

export async function api<T = unknown>(
  baseUrl: string,
  path: string,
  options: ApiOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.aksk) headers.authorization = `AK-SK ${options.aksk.api_key}:${options.aksk.api_secret}`;
  let body: string | Uint8Array | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.rawBody !== undefined) {
    body = options.rawBody;
  }
  if (options.contentType) headers['content-type'] = options.contentType;
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: options.signal,
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { code: -1, message: text, data: null };
  }
  return { status: response.status, headers: response.headers, body: parsed as ApiResponse<T>['body'] };
}
