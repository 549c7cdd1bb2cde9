import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { CascadeError } from '../errors/cascade-error.js';
import { ApiError } from './api-client.js';
import { CommandFailed, ExitCode, UsageError } from './errors.js';
import { printError } from './output.js';

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The root command. Groups attach themselves with `register<Group>(program)` (see main.ts). */
export function createProgram(): Command {
  const program = new Command('cascade')
    .description('Cascade: spread feed-update work from one parent node over many child nodes.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Settings set before `.command()` are copied to every subcommand, so usage errors throw instead of exiting.
    .exitOverride();
  return program;
}

/** Parses argv, runs the command and returns the exit code; never throws. */
export async function runCli(program: Command, argv: readonly string[]): Promise<number> {
  // `cascade node list | head -1` closes the pipe early; that is the reader's choice, not an error to crash on.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help). Help and --version end in 0; everything else is usage.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof ConfigError) {
    printError(`cascade: ${error.message}`);
    return ExitCode.usage;
  }
  if (error instanceof UsageError) {
    printError(`cascade: ${error.message}`);
    return ExitCode.usage;
  }
  if (error instanceof ApiError) {
    // The API's message is the one to show (it names the problem and the fix); a rejected input is a usage error.
    printError(`cascade: ${error.message}`);
    return error.isUsageError ? ExitCode.usage : ExitCode.failure;
  }
  if (error instanceof CommandFailed || error instanceof CascadeError) {
    printError(`cascade: ${error.message}`);
    return ExitCode.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  printError(`cascade: ${message}`);
  if (process.env.CASCADE_DEBUG && error instanceof Error && error.stack) printError(error.stack);
  return ExitCode.failure;
}
