#!/usr/bin/env node
import type { Command } from 'commander';
import { createProgram, runCli } from './program.js';

/** Every command group but `child`, each in its own file registering itself: add one line. */
async function registerAll(program: Command): Promise<void> {
  (await import('./init.js')).registerInit(program);
  (await import('./parent.js')).registerParent(program);
  (await import('./node.js')).registerNode(program);
  (await import('./user.js')).registerUser(program);
  (await import('./token.js')).registerToken(program);
  (await import('./check.js')).registerCheck(program);
  (await import('./dispatch.js')).registerDispatch(program);
  (await import('./allocations.js')).registerAllocations(program);
  (await import('./deliveries.js')).registerDeliveries(program);
  (await import('./feed.js')).registerFeed(program);
  (await import('./child.js')).registerChild(program);
  (await import('./demo.js')).registerDemo(program);
  (await import('./migrate.js')).registerMigrate(program);
  (await import('./db.js')).registerDb(program);
}

/**
 * The `cascade` command. `cascade child` runs for weeks on small machines, so it loads its own command only:
 * the other groups import the parent (Fastify, Swagger, prom-client) and the store drivers (Kysely, pg, mysql2),
 * which added ~10–15 MiB to an idle child's RSS (docs/benchmarks.md, scenario 7).
 */
const program = createProgram();
if (process.argv[2] === 'child') (await import('./child.js')).registerChild(program);
else await registerAll(program);

process.exitCode = await runCli(program, process.argv);
