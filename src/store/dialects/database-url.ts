import { CascadeError } from '../../errors/cascade-error.js';

export type DatabaseTarget =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; url: string; database: string }
  | { dialect: 'mysql'; url: string; database: string };

/** Parses `DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:`, `postgres(ql)://…`, `mysql://…`, `mariadb://…`. */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const url = raw.trim();
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (rest === ':memory:' || rest === '') return { dialect: 'sqlite', filename: ':memory:' };
    return { dialect: 'sqlite', filename: rest };
  }
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (scheme === 'postgres' || scheme === 'postgresql' || scheme === 'mysql' || scheme === 'mariadb') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid(raw);
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!database) {
      throw new CascadeError(
        'VALIDATION_FAILED',
        `database.url '${redactUrl(raw)}' names no database; add one, e.g. ${scheme}://host/cascade`,
      );
    }
    return scheme.startsWith('postgres')
      ? { dialect: 'postgres', url, database }
      : { dialect: 'mysql', url: url.replace(/^mariadb:/, 'mysql:'), database };
  }
  throw invalid(raw);
}

function invalid(raw: string): CascadeError {
  return new CascadeError(
    'VALIDATION_FAILED',
    `database.url '${redactUrl(raw)}' is not understood; expected sqlite:<path>, sqlite::memory:, postgres://… or mysql://…`,
  );
}

/** The file of an on-disk SQLite database; null for SQLite in memory and for the server databases. */
export function sqliteFileOf(target: DatabaseTarget): string | null {
  return target.dialect === 'sqlite' && target.filename !== ':memory:' ? target.filename : null;
}

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
