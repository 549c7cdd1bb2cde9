import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A TypeScript script run as its own Node process (`node --import tsx <script>`) that talks in JSON lines:
 * it gets its input as JSON in CASCADE_BENCH_INPUT, reads commands on stdin and writes events on stdout.
 * Load generators and the parent run this way so that they never share a process (or an event loop) with
 * what they measure.
 */
export type ScriptProcess = {
  readonly pid: number;
  readonly process: ChildProcess;
  send(command: object): void;
  /** The next event with this `event` name (events that arrived earlier are queued, none is lost). */
  next<T extends object>(event: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
};

type Waiter = {
  event: string;
  resolve: (value: object) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
};

export function spawnScript(
  script: string,
  input: object,
  env: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
): ScriptProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, ...env, CASCADE_BENCH_INPUT: JSON.stringify(input) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const queued: Array<{ event: string } & object> = [];
  const waiters: Waiter[] = [];
  const stderr: string[] = [];
  let exited: Error | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deliver = (message: { event: string }) => {
    const index = waiters.findIndex((w) => w.event === message.event || message.event === 'error');
    if (index < 0) return void queued.push(message);
    const [waiter] = waiters.splice(index, 1) as [Waiter];
    clearTimeout(waiter.timer);
    if (message.event === 'error')
      waiter.reject(new Error(`${script}: ${(message as { message?: string }).message ?? 'failed'}`));
    else waiter.resolve(message);
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      deliver(JSON.parse(line) as { event: string });
    } catch {
      // Not one of our events (a stray log line): ignore.
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`${script} exited (code ${code}, signal ${signal}); last stderr:\n${stderr.join('\n')}`);
    for (const waiter of waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(exited);
    }
  });

  return {
    pid: child.pid ?? -1,
    process: child,
    send(command) {
      if (!exited) child.stdin.write(`${JSON.stringify(command)}\n`);
    },
    next<T extends object>(event: string, timeoutMs = 600_000): Promise<T> {
      const index = queued.findIndex((m) => m.event === event || m.event === 'error');
      if (index >= 0) {
        const [message] = queued.splice(index, 1) as [{ event: string }];
        if (message.event === 'error')
          return Promise.reject(new Error(`${script}: ${(message as { message?: string }).message ?? 'failed'}`));
        return Promise.resolve(message as T);
      }
      if (exited) return Promise.reject(exited);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.timer === timer);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`${script}: no '${event}' within ${timeoutMs} ms; last stderr:\n${stderr.join('\n')}`));
        }, timeoutMs);
        waiters.push({ event, resolve: resolve as (value: object) => void, reject, timer });
      });
    },
    async stop() {
      if (exited || child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** Inside a script process: its input, and the way to emit events. */
export function scriptInput<T>(): T {
  const raw = process.env.CASCADE_BENCH_INPUT;
  if (!raw) throw new Error('CASCADE_BENCH_INPUT is not set; this script is started by bench/run.ts');
  return JSON.parse(raw) as T;
}

export function emit(event: string, data: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
}

/** Commands from the runner, one JSON object per stdin line. */
export function onCommand(handler: (command: { command: string } & Record<string, unknown>) => void): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    try {
      handler(JSON.parse(line) as { command: string } & Record<string, unknown>);
    } catch (error) {
      emit('error', { message: (error as Error).message });
    }
  });
}
