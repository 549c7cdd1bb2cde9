/**
 * CLI exit codes (docs/protocol.md §7): 0 success, 1 the command failed, 2 the command line or the configuration is wrong.
 */
export const ExitCode = Object.freeze({ ok: 0, failure: 1, usage: 2 } as const);

/** A mistake in how the command was called (a bad flag value, a missing argument): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran but could not do what was asked, with a message that says why: exit 1. */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}
