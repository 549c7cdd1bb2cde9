/**
 * The one order in which the store takes the row locks of several rows of one table in one transaction: their
 * keys in UTF-16 code-unit order (JavaScript's default string order). Two transactions that lock rows of a table
 * in the same order wait for each other; in opposite orders they can deadlock. For keys without characters beyond
 * U+FFFF it is also the primary-key order of MySQL's utf8mb4_bin, PostgreSQL's "C" collation and SQLite's BINARY,
 * so a multi-row UPDATE walking the key index there locks in this order too. Where a locking read orders by the
 * database's collation (`ORDER BY … FOR UPDATE` of `host_state` in the claim), the other writers follow the
 * database's order instead (src/store/allocations/host-slots.ts).
 */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
