import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError } from '../../src/store/transient-error.js';
import { isUniqueViolation } from '../../src/store/unique-violation.js';

describe('database error classification', () => {
  it.each([
    [{ code: '40P01' }, true], // PostgreSQL deadlock
    [{ code: '40001' }, true], // serialization failure
    [{ errno: 1213, code: 'ER_LOCK_DEADLOCK' }, true],
    [{ errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' }, true],
    [{ code: 'SQLITE_BUSY' }, true],
    [{ code: '0A000', message: 'cached plan must not change result type' }, true], // a prepared statement outlived its table's shape
    [{ code: '0A000', message: 'unsupported feature' }, false],
    [{ code: '23505' }, false],
    [new Error('boom'), false],
    [null, false],
  ])('%j is transient: %s', (error, expected) => {
    expect(isTransientDatabaseError(error)).toBe(expected);
  });

  it.each([
    [{ code: '23505' }, true],
    [{ errno: 1062, code: 'ER_DUP_ENTRY' }, true],
    [{ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }, true],
    [{ code: '40P01' }, false],
  ])('%j is a unique violation: %s', (error, expected) => {
    expect(isUniqueViolation(error)).toBe(expected);
  });
});
