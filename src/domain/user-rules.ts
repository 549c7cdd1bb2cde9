/**
 * What a user name and a password must be, in one place for the API's schemas and the CLI's own checks (the CLI
 * also sets passwords where no API runs: `cascade init`).
 */
export const USERNAME_MAX_LENGTH = 191;
/** One or more characters, none of them whitespace. */
export const USERNAME_PATTERN = '^\\S+$';
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** Why `name` cannot be a user name, or undefined when it can. */
export function usernameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > USERNAME_MAX_LENGTH || !new RegExp(USERNAME_PATTERN).test(name))
    return `expected 1 to ${USERNAME_MAX_LENGTH} characters and no spaces`;
  return undefined;
}
