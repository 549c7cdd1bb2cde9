import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommandFailed } from './errors.js';

/** One saved login: the bearer token `cascade login` got from a parent. */
export type SavedLogin = { token: string; username: string; expires_at: string };

type CredentialsFile = { version: 1; parents: Record<string, SavedLogin> };

/** `$XDG_CONFIG_HOME/cascade/credentials.json`, else `~/.config/cascade/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'cascade', 'credentials.json');
}

/**
 * The saved logins. A token in a file others can read is as good as theirs, so a file with any group or world
 * permission is refused (not silently fixed: the user should learn that it was exposed and log in again).
 */
function readCredentials(path: string): CredentialsFile {
  if (!existsSync(path)) return { version: 1, parents: {} };
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CommandFailed(
      `${path} is readable by other users (mode 0${mode.toString(8)}); its tokens may have leaked. Run \`chmod 600 ${path}\`, then \`cascade login\` again.`,
    );
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CredentialsFile>;
    return { version: 1, parents: typeof parsed.parents === 'object' && parsed.parents !== null ? parsed.parents : {} };
  } catch {
    throw new CommandFailed(`${path} is not valid JSON; delete it and run \`cascade login\` again.`);
  }
}

/** Writes the whole file again: folder 0700, file 0600, replaced by a rename so a crash never leaves half of it. */
function writeCredentials(path: string, file: CredentialsFile): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function savedLogin(parentUrl: string, env: NodeJS.ProcessEnv = process.env): SavedLogin | undefined {
  return readCredentials(credentialsPath(env)).parents[parentUrl];
}

export function saveLogin(parentUrl: string, login: SavedLogin, env: NodeJS.ProcessEnv = process.env): string {
  const path = credentialsPath(env);
  const file = readCredentials(path);
  file.parents[parentUrl] = login;
  writeCredentials(path, file);
  return path;
}

/** Forgets the login for one parent; true when there was one. */
export function forgetLogin(parentUrl: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = credentialsPath(env);
  const file = readCredentials(path);
  if (!(parentUrl in file.parents)) return false;
  delete file.parents[parentUrl];
  writeCredentials(path, file);
  return true;
}
