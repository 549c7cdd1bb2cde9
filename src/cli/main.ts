#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { registerChild } from './child.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo.js';
import { registerMigrate } from './migrate.js';

/** The `cascade` command. Each command group lives in its own file and registers itself here: add one line. */
const program = new Command('cascade').description('Cascade: spread feed-update work from one parent node over many child nodes.').exitOverride();
registerChild(program);
registerDemo(program);
registerMigrate(program);
registerDb(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else if (error instanceof ConfigError) {
    process.stderr.write(`cascade: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`cascade: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
