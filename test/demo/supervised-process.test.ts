import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { supervise } from '../../src/demo/supervised-process.js';

describe('supervised process', () => {
  it('reports running until it exits, and stop ends it with SIGKILL when SIGTERM is ignored', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise((ready) => child.stdout.once('data', ready));
    const supervised = supervise(child);
    expect(supervised.running).toBe(true);
    expect(await supervised.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(supervised.running).toBe(false);
    expect(await supervised.stop()).toEqual({ code: null, signal: 'SIGKILL' }); // stopping again answers the same end
  });

  it('keeps the live state when merged into a handle with Object.assign', async () => {
    const handle = Object.assign(supervise(spawn(process.execPath, ['-e', 'process.exit(3)'])), { name: 'quick' });
    expect(await handle.exited).toEqual({ code: 3, signal: null });
    expect(handle.running).toBe(false);
  });
});
