import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../dialects/capabilities.js';

/**
 * PostgreSQL: `cascade_unassigned_work_ready(now_ms)`, whether unassigned pending work is claimable now. The
 * single-statement completion (src/store/allocations/single-statement.ts) asks it to decide whether the room it
 * frees should wake waiting claims. A subquery in that statement would read the statement's snapshot, taken before
 * the statement waited for the allocation row (a heartbeat holding it, say): pool work committed during that wait
 * would be missed and its claimers left asleep. A VOLATILE PL/pgSQL function takes a fresh snapshot for each query
 * it runs, so it sees what is committed when the move is done. Other databases ask after their commit instead.
 */
export function unassignedWorkFunctionMigration(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (!caps.writableCtes) return;
      await sql`
        create function cascade_unassigned_work_ready(now_ms bigint) returns boolean
        language plpgsql volatile as $$
        begin
          return exists (select 1 from allocations where status = 'pending' and node_id is null and available_at <= now_ms);
        end
        $$`.execute(db);
    },
  };
}
