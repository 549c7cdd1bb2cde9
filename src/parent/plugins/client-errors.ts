import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCodeName } from '../../errors/cascade-error.js';

type ClientError = Error & { code?: string };

/** Node's parser errors that reach no route, as envelope answers (Fastify's default answers outside it). */
const PARSER_ERRORS: Record<string, { status: number; error: ErrorCodeName; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    error: 'REQUEST_TIMEOUT',
    message: 'The request did not arrive within server.request_timeout_seconds; the connection is closed.',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    error: 'HEADERS_TOO_LARGE',
    message:
      'The request line and headers are larger than the parent accepts (16 KiB); shorten the URL or the headers.',
  },
};
const MALFORMED = { status: 400, error: 'VALIDATION_FAILED' as const, message: 'The request is not valid HTTP/1.1.' };

/**
 * Fastify's `clientErrorHandler`: a request Node could not parse (too slow, headers or URL too large, malformed)
 * still gets the protocol envelope, then the connection closes, as Node itself does after such an error.
 */
export function answerClientError(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = (error.code ? PARSER_ERRORS[error.code] : undefined) ?? MALFORMED;
  const body = JSON.stringify({ code: known.status, message: known.message, data: null, error: known.error });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
