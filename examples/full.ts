/**
 * Full mode (完整流程示例): parent, sample-feed server and two real child processes; dispatch, follow progress,
 * print the per-node summary, stop. The same as `npm run demo -- --exit`. Run: `node --import tsx examples/full.ts`
 */
import { runDemo } from '../src/demo/run-demo.js';

process.exitCode = await runDemo({ exitAfterSummary: true, timeoutSeconds: 120 });
