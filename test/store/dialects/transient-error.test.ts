import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isTransientDatabaseError } from '../../../src/store/dialects/transient-error.js';
import { isUniqueViolation } from '../../../src/store/dialects/unique-violation.js';

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

describe('database unavailable classification', () => {
  it.each([
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, true], // pg_terminate_backend, restart
    [{ code: '57P03' }, true], // the server is starting up
    [{ code: '08006' }, true], // connection failure
    [new Error('Connection terminated unexpectedly'), true], // node-postgres, socket closed under a query
    [new Error('Client has encountered a connection error and is not queryable'), true],
    [{ code: 'ECONNREFUSED' }, true],
    [{ errno: 1927, code: 'ER_CONNECTION_KILLED' }, true], // MariaDB KILL
    [{ code: 'PROTOCOL_CONNECTION_LOST' }, true], // mysql2
    [new Error('wrapped', { cause: { code: '57P01' } }), true],
    [{ code: '23505' }, false],
    [{ code: 'SQLITE_BUSY' }, false],
    [new Error('boom'), false],
    [null, false],
  ])('%j means the database is unavailable: %s', (error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });
});
