import { sql, type CreateTableBuilder, type DropIndexBuilder, type Kysely } from 'kysely';
import type { Capabilities } from './capabilities.js';

/** CREATE TABLE with the dialect's table options (`caps.tableOptions`), for `.$call(...)`. */
export function withTableOptions<TB extends string, C extends string>(
  caps: Capabilities,
  table: CreateTableBuilder<TB, C>,
): CreateTableBuilder<TB, C> {
  return caps.tableOptions === null ? table : table.modifyEnd(sql.raw(caps.tableOptions));
}

/** DROP INDEX, naming the table where the dialect wants it (`caps.dropIndexNamesTable`). */
export function dropIndex(db: Kysely<unknown>, caps: Capabilities, index: string, table: string): DropIndexBuilder {
  const drop = db.schema.dropIndex(index);
  return caps.dropIndexNamesTable ? drop.on(table) : drop;
}
