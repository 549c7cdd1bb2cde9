import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { NotifyMessage } from '../protocol/parent-messages.js';

/**
 * The parent's wake-up call to a child (docs/protocol.md §3.3): `POST /api/v1/cascade/notify` with a JSON body signed by
 * HMAC-SHA256 under the node's notify key. The body carries its own `timestamp` and a `nonce`, so the signature
 * covers both: a captured call cannot be replayed after the window, nor twice inside it.
 */
export const NOTIFY_SIGNATURE_HEADER = 'x-cascade-signature';
/** How far a notify's timestamp may be from the child's clock, either way. */
const NOTIFY_WINDOW_MS = 5 * 60_000;

export function notifySignature(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}

/** The body and its signature header, ready to send. */
export function signedNotify(
  key: string,
  message: { allocation_id: string; feed_count: number },
  nowMs = Date.now(),
): { body: string; signature: string } {
  const full: NotifyMessage = {
    type: 'new_task',
    ...message,
    timestamp: new Date(nowMs).toISOString(),
    nonce: randomUUID(),
  };
  const body = JSON.stringify(full);
  return { body, signature: notifySignature(key, body) };
}

export type NotifyCheck = { ok: true; message: NotifyMessage } | { ok: false; reason: string };

/**
 * Checks a received notify: the signature first (nothing unsigned is even parsed), then the timestamp window,
 * then that this nonce was not seen before (`seen` remembers nonces for the window; see NonceMemory).
 */
export function verifyNotify(
  key: string,
  body: string,
  signature: string | undefined,
  seen: NonceMemory,
  nowMs = Date.now(),
): NotifyCheck {
  const expected = Buffer.from(notifySignature(key, body));
  const actual = Buffer.from(signature ?? '');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    return { ok: false, reason: 'bad signature' };
  let message: Partial<NotifyMessage>;
  try {
    message = JSON.parse(body) as Partial<NotifyMessage>;
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const sentAt = typeof message.timestamp === 'string' ? Date.parse(message.timestamp) : Number.NaN;
  if (!Number.isFinite(sentAt) || Math.abs(nowMs - sentAt) > NOTIFY_WINDOW_MS)
    return { ok: false, reason: 'timestamp outside the allowed window' };
  if (typeof message.nonce !== 'string' || message.nonce.length === 0) return { ok: false, reason: 'no nonce' };
  if (!seen.remember(message.nonce, sentAt + NOTIFY_WINDOW_MS, nowMs))
    return { ok: false, reason: 'already received (replay)' };
  return { ok: true, message: message as NotifyMessage };
}

/** Nonces seen inside the window; each is forgotten once its notify would be refused for its age anyway. */
export class NonceMemory {
  readonly #until = new Map<string, number>();

  /** False when the nonce is already known. */
  remember(nonce: string, forgetAtMs: number, nowMs: number): boolean {
    for (const [known, until] of this.#until) if (until < nowMs) this.#until.delete(known);
    if (this.#until.has(nonce)) return false;
    this.#until.set(nonce, forgetAtMs);
    return true;
  }
}
