// `npm install` in a checkout builds dist/ and the web console (tsc and vite are dev dependencies). Where
// TypeScript is absent (`npm ci --omit=dev` on a host that only runs the package) a dist/ that is already there
// is used as it is; with neither, say what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { URL } from 'node:url';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (tsc) {
  const built = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(built.status ?? 1);
}
if (existsSync(new URL('../dist/cli/main.js', import.meta.url))) process.exit(0);
console.error(
  'cascade: dist/ is missing and TypeScript is not installed: run `npm install` with dev dependencies, or install the package tarball (`npm pack`), which carries dist/.',
);
process.exit(1);
