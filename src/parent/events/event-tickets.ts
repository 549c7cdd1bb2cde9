import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { UserRole } from '../../auth/jwt.js';
import { CascadeError } from '../../errors/cascade-error.js';

export type TicketHolder = { id: string; username: string; role: UserRole };

const TICKET_TTL_SECONDS = 30;

/**
 * Short-lived, single-use tickets that open the console's event stream. EventSource cannot send an
 * Authorization header, and the long-lived login token must not travel in a URL (logs, history), so the page
 * trades its token for a ticket (POST, Bearer) and opens `GET /events?ticket=…`.
 *
 * A ticket is signed with a key derived from the JWT secret, so any parent on the same database accepts it (a
 * load balancer may send the two requests to different parents) while a ticket never verifies as a login token
 * and a login token never as a ticket. Single use is enforced per parent.
 */
export class EventTickets {
  readonly #key: Uint8Array;
  /** Ticket id → expiry (ms) of tickets already used; pruned as they expire. */
  readonly #used = new Map<string, number>();

  constructor(jwtSecret: string) {
    this.#key = createHmac('sha256', jwtSecret).update('cascade console event ticket').digest();
  }

  async issue(holder: TicketHolder): Promise<{ ticket: string; expires_in: number }> {
    const ticket = await new SignJWT({ username: holder.username, role: holder.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'cascade-events-ticket' })
      .setSubject(holder.id)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + TICKET_TTL_SECONDS)
      .sign(this.#key);
    return { ticket, expires_in: TICKET_TTL_SECONDS };
  }

  /** The holder of a valid unused ticket; the ticket is spent. */
  async redeem(ticket: string): Promise<TicketHolder> {
    const now = Date.now();
    for (const [id, expiresMs] of this.#used) if (expiresMs < now) this.#used.delete(id);
    let payload;
    try {
      ({ payload } = await jwtVerify(ticket, this.#key, { algorithms: ['HS256'], typ: 'cascade-events-ticket' }));
    } catch {
      throw new CascadeError(
        'UNAUTHENTICATED',
        'The event ticket is invalid or expired; ask POST /api/v1/events/ticket for a new one.',
      );
    }
    const { jti, sub, exp, role, username } = payload;
    if (
      typeof jti !== 'string' ||
      typeof sub !== 'string' ||
      typeof exp !== 'number' ||
      (role !== 'admin' && role !== 'viewer')
    ) {
      throw new CascadeError('UNAUTHENTICATED', 'The event ticket lacks its claims; ask for a new one.');
    }
    if (this.#used.has(jti))
      throw new CascadeError('UNAUTHENTICATED', 'The event ticket was already used; ask for a new one.');
    this.#used.set(jti, exp * 1000);
    return { id: sub, username: String(username ?? ''), role };
  }
}
