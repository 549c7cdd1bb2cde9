import type { Command } from 'commander';
import { withCommonOptions, type CommonOptions } from './context.js';
import { CommandFailed } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * What a data command uses to read and change the parent's data: the management API (`/api/v1/...`), whether it
 * runs in this process over the local store or on a remote parent (`--url`). One code path for both, so a command
 * behaves the same on the machine that holds the store and from anywhere else.
 */
export type CliApi = {
  /** Where the calls go, for messages: the parent's URL or "the local store". */
  readonly target: string;
  /** One call; resolves to the envelope's `data`, or throws an ApiError carrying the envelope's message. */
  call<T>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
  /** Every item of a paged list endpoint (`{list, total}`), read 200 at a time. */
  listAll<T>(path: string): Promise<T[]>;
};

/** The raw exchange under a CliApi: one request, the HTTP status and the parsed JSON body. */
export type ApiTransport = {
  readonly target: string;
  send(method: HttpMethod, path: string, body: unknown): Promise<{ status: number; body: unknown }>;
};

/** An error answer of the API, mapped once to the CLI (program.ts): validation is a usage error, the rest exit 1. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 400 VALIDATION_FAILED: what the user typed is wrong (exit 2), as opposed to the state of the data (exit 1). */
  get isUsageError(): boolean {
    return this.status === 400 && this.code === 'VALIDATION_FAILED';
  }
}

/** Options of every data command: `--config`, `--json` and where the parent is (`--url`, `--token`). */
export type ApiOptions = CommonOptions & { url?: string | undefined; token?: string | undefined };

/** Adds `--url` and `--token` to a command that goes through the API, besides `--config` and (optionally) `--json`. */
export function withApiOptions(command: Command, { json }: { json: boolean }): Command {
  withCommonOptions(command, { json });
  command.option(
    '--url <url>',
    'a remote parent to work on through its API (default: $CASCADE_URL; without it, the local store)',
  );
  command.option(
    '--token <token>',
    'bearer token for --url (default: $CASCADE_TOKEN, else the one saved by `cascade login`)',
  );
  return command;
}

/** The parent URL the options name (`--url`, else $CASCADE_URL), or undefined for the local store. */
export function remoteUrlOf(options: ApiOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = options.url ?? (env.CASCADE_URL === '' ? undefined : env.CASCADE_URL);
  return url === undefined ? undefined : normaliseParentUrl(url);
}

/** `http(s)://host[:port][/base]` without a trailing slash; anything else is a usage error. */
function normaliseParentUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiUsage(`--url / CASCADE_URL: '${url}' is not a URL; expected http://host:port or https://host:port.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ApiUsage(`--url / CASCADE_URL: '${url}' must start with http:// or https://.`);
  if (parsed.username || parsed.password)
    throw new ApiUsage('--url / CASCADE_URL must not carry a user or password; use `cascade login`.');
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** A bad `--url`: told as a usage error (exit 2). */
class ApiUsage extends ApiError {
  constructor(message: string) {
    super(400, 'VALIDATION_FAILED', message);
  }
}

/** The envelope handling both transports share: `data` on success, an ApiError with the message otherwise. */
export function apiOver(transport: ApiTransport): CliApi {
  const call = async <T>(method: HttpMethod, path: string, body?: unknown): Promise<T> => {
    const answer = await transport.send(method, path, body);
    const envelope = asEnvelope(answer.body);
    if (!envelope)
      throw new CommandFailed(
        `${transport.target} answered ${method} ${path} with HTTP ${answer.status} but not the Cascade API envelope; is it a Cascade parent?`,
      );
    if (answer.status >= 400 || envelope.code !== 0) {
      throw new ApiError(
        answer.status,
        typeof envelope.error === 'string' ? envelope.error : 'ERROR',
        envelope.message,
        detailsOf(envelope.details),
      );
    }
    return envelope.data as T;
  };
  return {
    target: transport.target,
    call,
    async listAll<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      const separator = path.includes('?') ? '&' : '?';
      for (;;) {
        const page = await call<{ list: T[]; total: number }>(
          'GET',
          `${path}${separator}limit=200&offset=${items.length}`,
        );
        items.push(...page.list);
        if (page.list.length === 0 || items.length >= page.total) return items;
      }
    },
  };
}

type Envelope = { code: number; message: string; data: unknown; error?: unknown; details?: unknown };

function asEnvelope(body: unknown): Envelope | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, message } = body as Record<string, unknown>;
  return typeof code === 'number' && typeof message === 'string' ? (body as Envelope) : undefined;
}

function detailsOf(details: unknown): Array<{ path: string; message: string }> {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is { path: string; message: string } =>
      typeof d === 'object' && d !== null && typeof (d as { message?: unknown }).message === 'string',
  );
}

/** A query string from the defined values only (`?a=1&b=x`), or '' when none is. */
export function query(values: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** A path segment from user input (an id or a name), so `/` or `?` in it cannot change the route. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
