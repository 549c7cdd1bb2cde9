import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShellBlock } from './shell-blocks.js';

export type SessionOptions = {
  /** Where the walkthrough runs (a fresh folder). */
  cwd: string;
  /** Where `cwd: repository` blocks run. */
  repositoryDir: string;
  /** A folder outside `cwd` for the block scripts and the background processes' output. */
  scratchDir: string;
  env: NodeJS.ProcessEnv;
  /** Longest a foreground block may run, and a background block may take to be ready. */
  blockTimeoutMs: number;
};

type Background = { block: ShellBlock; process: ChildProcess; output: { text: string }; exit: Promise<number | null> };

const describeBlock = (block: ShellBlock): string => `README line ${block.line} (${block.section}):\n${block.code}`;

/**
 * Runs README blocks as a user pastes them: foreground blocks one after another in one shell (so `TOKEN=…` in one
 * block is there in the next), each with `set -e -o pipefail` so any failing command fails the block; background
 * blocks each in a process group of their own (their own terminal), stopped with SIGINT (Ctrl-C) by `close`.
 */
export class BlockSession {
  private readonly shell: ChildProcess;
  private readonly shellOutput = { text: '' };
  private readonly shellExit: Promise<number | null>;
  private readonly background: Background[] = [];
  private counter = 0;

  constructor(private readonly options: SessionOptions) {
    this.shell = spawn('bash', ['--noprofile', '--norc'], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.shellExit = capture(this.shell, this.shellOutput);
  }

  async run(block: ShellBlock): Promise<void> {
    if (block.mode === 'skip') return;
    if (block.mode === 'background') return this.start(block);
    const script = this.writeScript(block);
    const marker = `__readme_block_${this.counter}_done__`;
    const from = this.shellOutput.text.length;
    // stdin from /dev/null: a command that reads its input must not swallow the next block.
    this.shell.stdin?.write(`set -e -o pipefail; source ${JSON.stringify(script)} < /dev/null; set +e +o pipefail; echo ${marker}\n`);
    const outcome = await Promise.race([
      waitForText(this.shellOutput, marker, from, this.options.blockTimeoutMs).then((seen) => (seen ? 'done' : `did not finish within ${this.options.blockTimeoutMs / 1000} s`)),
      this.shellExit.then((code) => `a command failed: the shell exited with code ${code}`),
    ]);
    if (outcome !== 'done') throw new Error(`${describeBlock(block)}\nfailed (${outcome}); its output:\n${this.shellOutput.text.slice(from)}`);
  }

  /** What the shared shell printed so far (every foreground block's output). */
  get transcript(): string {
    return this.shellOutput.text;
  }

  private async start(block: ShellBlock): Promise<void> {
    const script = this.writeScript(block);
    const cwd = block.cwd === 'repository' ? this.options.repositoryDir : this.options.cwd;
    const child = spawn('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', script], { cwd, env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const output = { text: '' };
    const entry: Background = { block, process: child, output, exit: capture(child, output) };
    this.background.push(entry);
    const deadline = Date.now() + this.options.blockTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${describeBlock(block)}\nexited (${child.exitCode ?? child.signalCode}) before it was ready; its output:\n${output.text}`);
      if (block.readyOutput ? output.text.includes(block.readyOutput) : this.probe(block.ready as string, cwd)) return;
      if (Date.now() > deadline) throw new Error(`${describeBlock(block)}\nnot ready within ${this.options.blockTimeoutMs / 1000} s (${block.ready ?? block.readyOutput}); its output:\n${output.text}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  private probe(command: string, cwd: string): boolean {
    return spawnSync('bash', ['--noprofile', '--norc', '-o', 'pipefail', '-c', command], { cwd, env: this.options.env, stdio: 'ignore', timeout: 30_000 }).status === 0;
  }

  /** Stops this section's background processes as Ctrl-C would; returns those that needed SIGKILL. */
  async stopBackground(graceMs = 30_000): Promise<string[]> {
    const stubborn: string[] = [];
    const running = this.background.splice(0);
    // Newest first: children before the parent, the parent before the feed server, as a user would.
    for (const entry of running.reverse()) {
      if (!isRunning(entry.process)) continue;
      signalGroup(entry.process, 'SIGINT');
      const stopped = await Promise.race([entry.exit.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs))]);
      if (!stopped) {
        stubborn.push(`README line ${entry.block.line}: ${entry.block.code.split('\n')[0]}`);
        signalGroup(entry.process, 'SIGKILL');
        await entry.exit;
      }
    }
    return stubborn;
  }

  /** Stops everything the session started, stubborn or not. */
  async close(): Promise<string[]> {
    const stubborn = await this.stopBackground();
    if (isRunning(this.shell)) {
      this.shell.stdin?.end('exit 0\n');
      const ended = await Promise.race([this.shellExit.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!ended) signalGroup(this.shell, 'SIGKILL');
    }
    // Whatever a foreground block left behind in the shell's group goes too.
    signalGroup(this.shell, 'SIGKILL');
    return stubborn;
  }

  /** Output of every background process started so far (for a failure message). */
  backgroundOutput(): string {
    return this.background.map((b) => `--- README line ${b.block.line}: ${b.block.code.split('\n')[0]}\n${b.output.text.slice(-4000)}`).join('\n');
  }

  private writeScript(block: ShellBlock): string {
    const path = join(this.options.scratchDir, `block-${++this.counter}-line-${block.line}.sh`);
    writeFileSync(path, `${block.code}\n`);
    return path;
  }
}

function capture(child: ChildProcess, output: { text: string }): Promise<number | null> {
  child.stdout?.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // The group is gone already.
  }
}

/** True once `text` appears after offset `from`; false at the deadline. */
function waitForText(output: { text: string }, text: string, from: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = (): void => {
      if (output.text.indexOf(text, from) >= 0) return resolve(true);
      if (Date.now() > deadline) return resolve(false);
      setTimeout(check, 100);
    };
    check();
  });
}
