#!/usr/bin/env node
import { registerAllocations } from './allocations.js';
import { registerCheck } from './check.js';
import { registerChild } from './child.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo.js';
import { registerDispatch } from './dispatch.js';
import { registerInit } from './init.js';
import { registerMigrate } from './migrate.js';
import { registerNode } from './node.js';
import { registerParent } from './parent.js';
import { createProgram, runCli } from './program.js';
import { registerToken } from './token.js';
import { registerUser } from './user.js';

/** The `cascade` command. Each command group lives in its own file and registers itself here: add one line. */
const program = createProgram();
registerInit(program);
registerParent(program);
registerNode(program);
registerUser(program);
registerToken(program);
registerCheck(program);
registerDispatch(program);
registerAllocations(program);
registerChild(program);
registerDemo(program);
registerMigrate(program);
registerDb(program);

process.exitCode = await runCli(program, process.argv);
