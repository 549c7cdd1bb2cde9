import { dispatchLatencyRun } from './scenarios/dispatch-latency.js';
console.log(await dispatchLatencyRun((process.argv[2] ?? 'sqlite') as 'sqlite', 8, 5));
