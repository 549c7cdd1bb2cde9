import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { NetworkPolicy } from './address-policy.js';
import { checkUrlTarget, guardedLookup } from './guarded-lookup.js';
import { followRedirects, splitCredentialHeaders } from './redirects.js';

/** `fetch` for outbound requests to addresses the operator does not control (feeds, webhooks, probes, notify). */
export type GuardedFetch = typeof fetch;

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` whose every connection goes through the network policy: IP literals are checked before connecting,
 * names by `guardedLookup` as the socket connects (so the checked address is the one connected to). Its own
 * agents keep its sockets apart from the process's other connections: a kept-alive socket to an allowed address
 * (the parent, say) is never lent to a request that the policy would refuse.
 *
 * `redirect: 'follow'` (the default) follows hop by hop through this same fetch, so each hop is checked, and keeps
 * Authorization and Cookie with the first URL's origin.
 */
export function createGuardedFetch(policy: NetworkPolicy): GuardedFetch {
  const lookup = guardedLookup(policy);
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, lookup }),
    'https:': new HttpsAgent({ keepAlive: true, lookup }),
  };
  const guardedFetch: GuardedFetch = async (input, init = {}) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : input instanceof URL ? input.href : input);
    const redirect = init.redirect ?? request?.redirect ?? 'follow';
    if (redirect !== 'manual') {
      const { credentials, rest } = splitCredentialHeaders(new Headers(init.headers ?? request?.headers));
      const hopInit = {
        method: init.method ?? request?.method,
        body: init.body ?? (request?.body ? await request.arrayBuffer() : undefined),
        signal: init.signal ?? request?.signal,
      };
      // redirect: 'error' is a limit of zero hops: the first redirect fails.
      const followed = await followRedirects({
        fetch: guardedFetch,
        url: url.href,
        originHeaders: credentials,
        commonHeaders: rest,
        maxRedirects: redirect === 'error' ? 0 : 20,
        init: hopInit,
      });
      return followed.response;
    }
    checkUrlTarget(url, policy);
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? request?.headers);
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
    const bodyInit = init.body ?? (request?.body ? await request.arrayBuffer() : undefined);
    const body =
      bodyInit === undefined || bodyInit === null ? undefined : Buffer.from(await new Response(bodyInit).arrayBuffer());
    const signal = init.signal ?? request?.signal ?? undefined;
    signal?.throwIfAborted();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = agents[url.protocol as 'http:' | 'https:'];
    return new Promise<Response>((resolve, reject) => {
      const outgoing = send(
        url,
        { method, headers: Object.fromEntries(headers), agent, lookup, signal },
        (incoming) => {
          try {
            resolve(toResponse(incoming, method));
          } catch (error) {
            incoming.destroy();
            reject(error);
          }
        },
      );
      // As fetch does, an abort rejects with the signal's reason (a TimeoutError for AbortSignal.timeout).
      outgoing.on('error', (error) => reject(signal?.aborted ? (signal.reason as unknown) : error));
      outgoing.end(body);
    });
  };
  return guardedFetch;
}

function toResponse(incoming: IncomingMessage, method: string): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2)
    headers.append(incoming.rawHeaders[i] as string, incoming.rawHeaders[i + 1] as string);
  if (method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
    incoming.resume();
    return new Response(null, { status, statusText: incoming.statusMessage ?? '', headers });
  }
  const decoded = decode(incoming, headers.get('content-encoding'));
  return new Response(Readable.toWeb(decoded) as ReadableStream<Uint8Array>, {
    status,
    statusText: incoming.statusMessage ?? '',
    headers,
  });
}

/** Undoes the content encodings `fetch` undoes; a body limit downstream counts decoded bytes (gzip bombs stop there). */
function decode(incoming: IncomingMessage, encoding: string | null): Readable {
  const name = encoding?.trim().toLowerCase();
  const decoder =
    name === 'gzip' || name === 'x-gzip'
      ? createGunzip()
      : name === 'deflate'
        ? createInflate()
        : name === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return incoming;
  incoming.on('error', (error) => decoder.destroy(error));
  decoder.on('close', () => incoming.destroy());
  return incoming.pipe(decoder);
}
