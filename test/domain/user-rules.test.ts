import { describe, expect, it } from 'vitest';
import { PASSWORD_MIN_LENGTH, usernameProblem, USERNAME_MAX_LENGTH } from '../../src/domain/user-rules.js';

describe('user name and password rules (shared by the API schemas and the CLI)', () => {
  it('takes 1 to 191 characters with no whitespace as a user name', () => {
    expect(usernameProblem('ops')).toBeUndefined();
    expect(usernameProblem('x'.repeat(USERNAME_MAX_LENGTH))).toBeUndefined();
    for (const bad of ['', ' ', 'two words', 'tab\there', 'x'.repeat(USERNAME_MAX_LENGTH + 1)])
      expect(usernameProblem(bad), JSON.stringify(bad)).toMatch(/no spaces/);
  });

  it('asks for passwords of at least 8 characters, as the API always has', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(8);
  });
});
