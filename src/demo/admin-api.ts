/** A minimal management-API client for the demo and examples: JWT auth and envelope unwrapping. */
export class AdminApi {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  async login(username: string, password: string): Promise<void> {
    const data = await this.call<{ access_token: string }>('POST', '/api/v1/auth/login', { username, password });
    this.token = data.access_token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let envelope: { code: number; message: string; data: T; error?: string } | undefined;
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      envelope = undefined;
    }
    if (!response.ok || !envelope)
      throw new Error(`${method} ${path} → HTTP ${response.status}: ${envelope?.message ?? text.slice(0, 200)}`);
    return envelope.data;
  }

  /** Every row of a paged list endpoint. */
  async listAll<T>(path: string): Promise<T[]> {
    const rows: T[] = [];
    const separator = path.includes('?') ? '&' : '?';
    for (let offset = 0; ; offset += 200) {
      const page = await this.call<{ list: T[]; total: number }>(
        'GET',
        `${path}${separator}limit=200&offset=${offset}`,
      );
      rows.push(...page.list);
      if (page.list.length === 0 || rows.length >= page.total) return rows;
    }
  }
}
