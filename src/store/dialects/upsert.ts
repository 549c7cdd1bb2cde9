import { sql, type InsertQueryBuilder, type OnConflictBuilder } from 'kysely';
import type { Capabilities } from './capabilities.js';

/** Column names of table `TB`, as Kysely's conflict target expects them. */
type Column<DB, TB extends keyof DB> = keyof DB[TB] & string;

/** The insert skips rows whose `key` is already stored, in the syntax `caps.upsertSyntax` names. */
export function insertOrIgnore<DB, TB extends keyof DB, O>(
  caps: Capabilities,
  insert: InsertQueryBuilder<DB, TB, O>,
  key: readonly Column<DB, TB>[],
): InsertQueryBuilder<DB, TB, O> {
  return caps.upsertSyntax === 'on-duplicate-key'
    ? insert.ignore()
    : insert.onConflict((oc) => oc.columns(key).doNothing());
}

/** The insert overwrites `columns` of rows whose `key` is already stored with the values it carries. */
export function insertOrUpdate<DB, TB extends keyof DB, O>(
  caps: Capabilities,
  insert: InsertQueryBuilder<DB, TB, O>,
  key: readonly Column<DB, TB>[],
  columns: readonly Column<DB, TB>[],
): InsertQueryBuilder<DB, TB, O> {
  // Built from names, so Kysely cannot check them against the table here; `Column` already did.
  if (caps.upsertSyntax === 'on-duplicate-key') {
    const update = Object.fromEntries(columns.map((c) => [c, sql`values(${sql.ref(c)})`]));
    return insert.onDuplicateKeyUpdate(update as Parameters<InsertQueryBuilder<DB, TB, O>['onDuplicateKeyUpdate']>[0]);
  }
  const update = Object.fromEntries(columns.map((c) => [c, sql`excluded.${sql.ref(c)}`]));
  return insert.onConflict((oc) =>
    oc.columns(key).doUpdateSet(update as Parameters<OnConflictBuilder<DB, TB>['doUpdateSet']>[0]),
  );
}
