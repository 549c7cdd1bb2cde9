import { fleetRun, historyRun } from './scenarios/scale.js';
const store = (process.argv[2] ?? 'sqlite') as 'sqlite';
console.log(await fleetRun(store, 100, 6000, 5000));
console.log(await historyRun(store, 1000, 300), await historyRun(store, 100000, 300));
