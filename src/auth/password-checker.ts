import { hashPassword, randomToken, verifyPassword } from './secrets.js';

export type PasswordVerify = (password: string, stored: string) => Promise<boolean>;

/**
 * Checks a login's password so that its cost does not say whether the username exists or is disabled: an
 * unknown user's password is hashed against a dummy hash made at start, with the same scrypt parameters.
 */
export class PasswordChecker {
  readonly #dummyHash: Promise<string>;

  constructor(private readonly verify: PasswordVerify = verifyPassword) {
    this.#dummyHash = hashPassword(randomToken(32));
  }

  async matches(password: string, user: { password_hash: string; active: boolean } | undefined): Promise<boolean> {
    const stored = user?.password_hash ?? (await this.#dummyHash);
    const matches = await this.verify(password, stored);
    return user !== undefined && user.active && matches;
  }
}
