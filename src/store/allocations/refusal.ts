import { canMove, MOVES, type AllocationStatus, type Move } from '../../domain/allocation-states.js';
import { CascadeError } from '../../errors/cascade-error.js';
import type { AllocationTable } from '../tables.js';
import type { Trx } from './shared.js';

/**
 * A guarded UPDATE that changed no row becomes a typed answer here, and only here:
 * - the caller never held the allocation → NOT_FOUND (a node must not learn that the id exists);
 * - the caller held it in an earlier attempt, or it moved on without them → LEASE_LOST;
 * - the caller holds it but the move is illegal from its state → INVALID_TRANSITION;
 * - the move already happened (a repeated report) → the row, unchanged (idempotency).
 */
export async function explainRefusal(
  trx: Trx,
  id: string,
  move: Move,
  nodeId: string | null,
): Promise<AllocationTable> {
  const row = await trx.selectFrom('allocations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new CascadeError('NOT_FOUND', `Allocation '${id}' does not exist.`);
  const status = row.status as AllocationStatus;
  if (nodeId !== null && (row.node_id !== nodeId || status === 'pending')) {
    const heldBefore = await trx
      .selectFrom('allocation_attempts')
      .select('id')
      .where('allocation_id', '=', id)
      .where('node_id', '=', nodeId)
      .executeTakeFirst();
    if (heldBefore) {
      throw new CascadeError(
        'LEASE_LOST',
        `This node no longer holds allocation '${id}' (it is ${status}${row.node_id && row.node_id !== nodeId ? ' on another node' : ''}); drop its work.`,
      );
    }
    if (row.node_id !== nodeId) throw new CascadeError('NOT_FOUND', `Allocation '${id}' does not exist.`);
  }
  if (status === MOVES[move].to && isRepeat(move)) return row;
  if (nodeId !== null && (status === 'timeout' || status === 'cancelled')) {
    throw new CascadeError(
      'LEASE_LOST',
      `Allocation '${id}' was ${status === 'timeout' ? 'timed out after its last lease expired' : 'cancelled'}; drop its work.`,
    );
  }
  if (!canMove(move, status)) {
    throw new CascadeError(
      'INVALID_TRANSITION',
      `Allocation '${id}' is ${status}; '${move}' is allowed only from ${MOVES[move].from.join(' or ')}.`,
    );
  }
  throw new CascadeError('CONFLICT', `Allocation '${id}' changed while this request ran; read it again.`);
}

/** Moves whose repetition returns the current row instead of an error. */
function isRepeat(move: Move): boolean {
  return move === 'start' || move === 'complete' || move === 'cancel' || move === 'failFinal';
}
