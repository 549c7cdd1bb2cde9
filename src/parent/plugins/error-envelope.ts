import type { FastifyError, FastifyInstance } from 'fastify';
import { CascadeError, type ErrorCodeName } from '../../errors/cascade-error.js';
import { isDatabaseUnavailable, isTransientDatabaseError } from '../../store/dialects/transient-error.js';

type ErrorBody = {
  code: number;
  message: string;
  data: null;
  error: ErrorCodeName;
  details?: unknown;
  request_id?: string;
};

/** Fastify's own error codes for bad input, mapped to protocol errors. */
const FASTIFY_CODES: Record<string, { code: ErrorCodeName; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'PAYLOAD_TOO_LARGE',
    message: 'The request body is larger than this endpoint accepts.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'VALIDATION_FAILED',
    message: 'The Content-Length header does not match the body.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'VALIDATION_FAILED',
    message: 'The body is empty but Content-Type says JSON; send a JSON object or no Content-Type.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'VALIDATION_FAILED', message: 'The body is not valid JSON.' },
};

/** The JSON 404 for a path no route serves (plugins/console-static.ts owns the not-found handler). */
export function notFoundBody(method: string, path: string): ErrorBody {
  return {
    code: 404,
    message: `No route ${method} ${path}; see /api/docs for the API.`,
    data: null,
    error: 'NOT_FOUND',
  };
}

/** The one place where any error becomes the protocol envelope (docs/protocol.md §1.2). */
export function installErrorEnvelope(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CascadeError | Error, request, reply) => {
    const retry = retryableDatabaseFailure(error);
    if (retry) {
      request.log.warn({ err: error, request_id: request.id }, retry.log);
      void reply.header('retry-after', '1');
      void reply.status(503).send({
        code: 503,
        message: retry.message,
        data: null,
        error: 'UNAVAILABLE',
        request_id: request.id,
      } satisfies ErrorBody);
      return;
    }
    const body = toErrorBody(error);
    if (body.code >= 500) {
      request.log.error({ err: error, request_id: request.id }, 'request failed');
      body.request_id = request.id;
    }
    if (error instanceof CascadeError && error.headers) void reply.headers(error.headers);
    void reply.status(body.code).send(body);
  });
}

/** A database failure the caller should simply repeat (children retry 503s), with what to say about it. */
function retryableDatabaseFailure(error: Error): { message: string; log: string } | undefined {
  if (isTransientDatabaseError(error))
    return {
      message: 'The database is busy (lock conflict); retry shortly.',
      log: 'database busy; asked the caller to retry',
    };
  // A lost connection fails this request only: the pool opens a new one on the next query.
  if (!(error instanceof CascadeError) && isDatabaseUnavailable(error))
    return {
      message: 'The database is unreachable; retry shortly.',
      log: 'database connection lost; asked the caller to retry',
    };
  return undefined;
}

function toErrorBody(error: FastifyError | CascadeError | Error): ErrorBody {
  if (error instanceof CascadeError) {
    const status = error.status === 500 && error.code !== 'INTERNAL' ? 400 : error.status;
    return {
      code: status,
      message: error.message,
      data: null,
      error: error.code,
      ...(error.details ? { details: error.details } : {}),
    };
  }
  const fastifyCode = (error as FastifyError).code;
  const known = fastifyCode ? FASTIFY_CODES[fastifyCode] : undefined;
  if (known) {
    const status = known.code === 'PAYLOAD_TOO_LARGE' ? 413 : known.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
    const details = known.code === 'VALIDATION_FAILED' ? [{ path: '', message: known.message }] : undefined;
    return { code: status, message: known.message, data: null, error: known.code, ...(details ? { details } : {}) };
  }
  if (error instanceof SyntaxError) {
    return {
      code: 400,
      message: 'The body is not valid JSON.',
      data: null,
      error: 'VALIDATION_FAILED',
      details: [{ path: '', message: error.message }],
    };
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      code: status,
      message: error.message,
      data: null,
      error: status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED',
    };
  }
  return {
    code: 500,
    message: 'Internal error; the parent logged it with this request id.',
    data: null,
    error: 'INTERNAL',
  };
}
