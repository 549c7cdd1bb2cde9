#!/usr/bin/env node
import type { Command } from 'commander';
import { createProgram, runCli } from './program.js';

type Register = (program: Command) => void;

const loadLogin = async (): Promise<Register> => (await import('./login.js')).registerLogin;
const loadDeliveries = async (): Promise<Register> => (await import('./deliveries.js')).registerDeliveries;

/** Every command group, each in its own file registering itself: add one line. */
const GROUPS: Readonly<Record<string, () => Promise<Register>>> = {
  init: async () => (await import('./init.js')).registerInit,
  parent: async () => (await import('./parent.js')).registerParent,
  node: async () => (await import('./node.js')).registerNode,
  user: async () => (await import('./user.js')).registerUser,
  token: async () => (await import('./token.js')).registerToken,
  check: async () => (await import('./check.js')).registerCheck,
  dispatch: async () => (await import('./dispatch.js')).registerDispatch,
  allocations: async () => (await import('./allocations.js')).registerAllocations,
  deliveries: loadDeliveries,
  delivery: loadDeliveries,
  feed: async () => (await import('./feed.js')).registerFeed,
  login: loadLogin,
  logout: loadLogin,
  status: async () => (await import('./status.js')).registerStatus,
  child: async () => (await import('./child.js')).registerChild,
  demo: async () => (await import('./demo.js')).registerDemo,
  migrate: async () => (await import('./migrate.js')).registerMigrate,
  db: async () => (await import('./db.js')).registerDb,
};

/**
 * The `cascade` command. A named command loads its own group only: `cascade child` runs for weeks on small
 * machines, and the other groups import the parent (Fastify, Swagger, prom-client) and the store drivers, which
 * added ~10–15 MiB to an idle child's RSS (docs/benchmarks.md, scenario 7); `cascade parent` does not load the
 * child, the demo and the admin commands before it listens. Without a known command (`--help`, a typo) all load.
 */
const program = createProgram();
const named = Object.hasOwn(GROUPS, process.argv[2] ?? '') ? GROUPS[process.argv[2] as string] : undefined;
if (named) (await named())(program);
else for (const load of new Set(Object.values(GROUPS))) (await load())(program);

process.exitCode = await runCli(program, process.argv);
