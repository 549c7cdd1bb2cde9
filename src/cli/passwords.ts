import { randomToken } from '../auth/secrets.js';
import { PASSWORD_MIN_LENGTH } from '../domain/user-rules.js';
import { UsageError } from './errors.js';

/** A given password must be long enough; none given means a random one the caller prints once. */
export function chosenPassword(given: string | undefined, source: string): { password: string; generated: boolean } {
  if (given === undefined || given === '') return { password: randomToken(20), generated: true };
  if (given.length < PASSWORD_MIN_LENGTH)
    throw new UsageError(`${source}: the password must have at least ${PASSWORD_MIN_LENGTH} characters.`);
  return { password: given, generated: false };
}

type PasswordSources = { flag: string; value: string | undefined; stdin: boolean | undefined; envName: string };

/**
 * The password from the flag, from standard input (`--password-stdin`, first line), or from an environment
 * variable, in that order. A flag's value is visible to every local user in `ps`; stdin and the environment are not.
 */
export async function givenPassword(
  sources: PasswordSources,
  input: NodeJS.ReadableStream = process.stdin,
): Promise<{ value: string | undefined; source: string }> {
  if (sources.stdin && sources.value !== undefined)
    throw new UsageError(`use either ${sources.flag} or --password-stdin, not both.`);
  if (sources.stdin) {
    const text = await readAll(input);
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') throw new UsageError('--password-stdin: standard input held no password.');
    return { value: line, source: '--password-stdin' };
  }
  if (sources.value !== undefined) return { value: sources.value, source: sources.flag };
  return { value: process.env[sources.envName], source: `$${sources.envName}` };
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
