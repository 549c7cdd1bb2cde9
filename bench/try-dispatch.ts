import { timeDispatch, timeInsertFloor } from './scenarios/dispatch.js';
const store = (process.argv[2] ?? 'sqlite') as 'sqlite';
const n = Number(process.argv[3] ?? 10000);
console.log('dispatch', await timeDispatch(store, n));
console.log('floor', await timeInsertFloor(store, n));
