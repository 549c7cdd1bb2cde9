import { claimCycleRun } from './scenarios/claim-cycle.js';
console.log(await claimCycleRun((process.argv[2] ?? 'sqlite') as 'sqlite', Number(process.argv[3] ?? 8), Number(process.argv[4] ?? 300)));
