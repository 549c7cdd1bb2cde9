import { randomToken } from '../auth/secrets.js';
import { UsageError } from './errors.js';

const MIN_PASSWORD_LENGTH = 8;

/** A given password must be long enough; none given means a random one the caller prints once. */
export function chosenPassword(given: string | undefined, source: string): { password: string; generated: boolean } {
  if (given === undefined || given === '') return { password: randomToken(20), generated: true };
  if (given.length < MIN_PASSWORD_LENGTH) throw new UsageError(`${source}: the password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  return { password: given, generated: false };
}
