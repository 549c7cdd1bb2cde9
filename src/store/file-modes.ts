import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The SQLite store holds the JWT signing key, password hashes and node secret hashes; the child's outbox holds work
 * not yet reported. Their folder is 0700 and the files (database, -wal, -shm) 0600, so another local user reads
 * none of it. POSIX modes only: on Windows the folder's ACL decides, and nothing here applies.
 */
export type ModeFinding = { path: string; mode: string; message: string };

const OPEN_TO_OTHERS = 0o077;
const applies = process.platform !== 'win32';
const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/** The database file and the two files SQLite keeps next to it in WAL mode. */
export function sqliteFiles(filename: string): string[] {
  return [filename, `${filename}-wal`, `${filename}-shm`];
}

/**
 * Before SQLite opens `filename`: creates its folder 0700 and the file 0600 when they are missing (SQLite gives the
 * -wal and -shm files the database file's mode), and narrows an existing file that group or others can read to
 * 0600. Returns what it fixed and what it left: an existing folder open to others is reported, not changed (it
 * may be a folder the operator shares on purpose, such as the working directory).
 */
export function preparePrivateSqliteFile(filename: string): ModeFinding[] {
  if (!applies) return [];
  const findings: ModeFinding[] = [];
  const dir = dirname(filename);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  else findings.push(...inspectPrivatePaths([dir], 'dir'));
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', 0o600));
  for (const path of sqliteFiles(filename)) {
    const mode = modeOf(path);
    if (mode === undefined || (mode & OPEN_TO_OTHERS) === 0) continue;
    chmodSync(path, 0o600);
    findings.push({
      path,
      mode: octal(mode),
      message: `${path} was readable by other users (mode ${octal(mode)}); changed to 0600`,
    });
  }
  return findings;
}

/** Paths that group or others can read, write or enter; nothing is changed (for `cascade check`). */
export function inspectPrivatePaths(paths: readonly string[], kind: 'dir' | 'file'): ModeFinding[] {
  if (!applies) return [];
  const findings: ModeFinding[] = [];
  for (const path of paths) {
    const mode = modeOf(path);
    if (mode === undefined || (mode & OPEN_TO_OTHERS) === 0) continue;
    const fix = kind === 'dir' ? 'chmod 700' : 'chmod 600';
    findings.push({
      path,
      mode: octal(mode),
      message: `${path} is open to other users (mode ${octal(mode)}); run \`${fix} ${path}\``,
    });
  }
  return findings;
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}
