import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** Distinct statement texts given a name; past this, texts run unnamed (as node-postgres sends them by default). */
const MAX_NAMED_STATEMENTS = 1000;
/** Statements with more parameters than this are bulk writes whose text varies with the row count: not worth naming. */
const MAX_NAMED_PARAMETERS = 64;
/** PostgreSQL refuses a prepared statement whose result columns changed (a migration by another process). */
const CACHED_PLAN_CHANGED = '0A000';
/** The server no longer has the statement the client believes it prepared. */
const STATEMENT_MISSING = '26000';

/**
 * Errors after which a statement text must not be sent named again: a changed result shape, a statement the server
 * lost, or a failure in the client itself (a parameter it could not serialise), after which node-postgres may have
 * closed the statement on the server while still counting it as prepared. Server errors with any other SQLSTATE
 * (a unique violation, a deadlock) leave the prepared statement as good as it was.
 */
function spoilsStatement(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === CACHED_PLAN_CHANGED ||
    code === STATEMENT_MISSING ||
    typeof code !== 'string' ||
    !/^[0-9A-Z]{5}$/.test(code)
  );
}

/**
 * node-postgres sends every query unnamed, so PostgreSQL parses and plans it on every call; for the claim path's
 * multi-CTE statements that planning cost more server CPU than running them (peer benchmark: +25 % allocations/s
 * when named). This pool hands Kysely clients that name each distinct statement text, so each connection
 * prepares it once and reuses the plan. Turn it off (`database.prepared_statements: false`) behind a pooler in
 * transaction mode that does not track prepared statements (PgBouncer before 1.21).
 */
export function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const unnamed = new Set<string>();
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  const nameOf = (text: string, parameterCount: number): string | undefined => {
    if (parameterCount > MAX_NAMED_PARAMETERS || unnamed.has(text)) return undefined;
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
      name = `cascade_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };

  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(
      sqlOrCursor: string | PostgresCursor<R>,
      parameters?: ReadonlyArray<unknown>,
    ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
      if (typeof sqlOrCursor !== 'string')
        return client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
      const values = [...(parameters ?? [])];
      const name = nameOf(sqlOrCursor, values.length);
      if (name === undefined) return client.query(sqlOrCursor, values) as unknown as Promise<PostgresQueryResult<R>>;
      return (client.query({ name, text: sqlOrCursor, values }) as unknown as Promise<PostgresQueryResult<R>>).catch(
        (error: unknown) => {
          // The next calls run unnamed and get a fresh plan; this one fails as any statement can.
          if (spoilsStatement(error)) unnamed.add(sqlOrCursor);
          throw error;
        },
      );
    }
    return { query, release: (destroy?: boolean) => client.release(destroy) };
  };

  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // One wrapper per pooled client: Kysely keeps its connection state keyed by the client object.
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = wrap(client);
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}
