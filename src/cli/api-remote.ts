import { ApiError, type ApiOptions, type ApiTransport, type HttpMethod } from './api-client.js';
import { savedLogin } from './credentials.js';
import { CommandFailed } from './errors.js';

/** A dispatch over many tasks can take a while; a parent that says nothing for this long is treated as down. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The API of a remote parent over HTTP(S). The token comes from `--token`, else $CASCADE_TOKEN, else the login saved
 * for this URL by `cascade login`. A parent behind a private CA needs NODE_EXTRA_CA_CERTS, as any Node client.
 */
export async function remoteTransport(
  url: string,
  options: ApiOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ApiTransport> {
  return httpTransport(url, bearerToken(url, options, env));
}

/** Plain HTTP calls to `url`, with the bearer token when one is given (login sends none). */
export function httpTransport(url: string, token?: string): ApiTransport {
  return {
    target: url,
    async send(method: HttpMethod, path: string, body: unknown) {
      let response: Response;
      try {
        response = await fetch(`${url}${path}`, {
          method,
          headers: {
            accept: 'application/json',
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        throw unreachable(url, error);
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const answer = { status: response.status, body: parsed };
      if (response.status === 401 && token !== undefined) throw withLoginHint(answer, url);
      return answer;
    },
  };
}

/** The token to send: `--token`, $CASCADE_TOKEN, or the saved login (a usage error when there is none). */
function bearerToken(url: string, options: ApiOptions, env: NodeJS.ProcessEnv = process.env): string {
  const given = options.token ?? (env.CASCADE_TOKEN === '' ? undefined : env.CASCADE_TOKEN);
  if (given !== undefined) return given;
  const saved = savedLogin(url, env);
  if (!saved)
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      `Not logged in to ${url}: run \`cascade login --url ${url}\`, or pass --token / set CASCADE_TOKEN.`,
    );
  if (Date.parse(saved.expires_at) <= Date.now())
    throw new CommandFailed(
      `The login to ${url} as '${saved.username}' expired at ${saved.expires_at}; run \`cascade login --url ${url}\` again.`,
    );
  return saved.token;
}

/** An answer 401 (bad, expired or revoked token): the parent's reason plus what to do. */
function withLoginHint(answer: { status: number; body: unknown }, url: string): ApiError {
  const body = (answer.body ?? {}) as { message?: unknown; error?: unknown };
  const reason = typeof body.message === 'string' ? body.message : 'The parent refused the token.';
  return new ApiError(
    401,
    typeof body.error === 'string' ? body.error : 'UNAUTHENTICATED',
    `${reason} (${url}: run \`cascade login --url ${url}\`)`,
  );
}

/** No answer at all: name the URL and the network's reason, never a stack trace. */
function unreachable(url: string, error: unknown): CommandFailed {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const reason =
    error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
      : typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.message === 'string'
          ? cause.message
          : error instanceof Error
            ? error.message
            : String(error);
  return new CommandFailed(
    `Cannot reach the parent at ${url} (${reason}). Check --url / CASCADE_URL and that the parent is running.`,
  );
}
