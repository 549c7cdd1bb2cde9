import type { SupervisedProcess } from '../../src/demo/supervised-process.js';
import { signalGroup } from './processes.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the process supervisor (systemd, Kubernetes) for one process: restarts it when it dies, and tells a death
 * the run caused (kill -9) from one it did not (a crash, which breaks `processes-survive`).
 */
export class Supervisor<T extends SupervisedProcess> {
  #current: T | undefined;
  #expectingExit = false;
  #stopped = false;
  #closed = false;
  #restarting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<T>,
    private readonly onCrash: (line: string) => void,
    /** A clue to why it died (the end of its log), added to the crash line. */
    private readonly crashHint: () => string,
    private readonly log: (line: string) => void,
  ) {}

  get current(): T | undefined {
    return this.#current;
  }

  get running(): boolean {
    return this.#current?.running ?? false;
  }

  /** Starts the process, retrying each second while it fails to come up (a database still down, say). */
  async start(deadlineMs: number): Promise<void> {
    for (;;) {
      try {
        const handle = await this.launch();
        this.#current = handle;
        void handle.exited.then((exit) => this.#exited(handle, exit));
        return;
      } catch (error) {
        if (this.#closed || Date.now() > deadlineMs) throw error;
        this.log(`${this.name} did not start (${(error as Error).message.split('\n')[0]}); retrying`);
        await sleep(1000);
      }
    }
  }

  #exited(handle: T, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (handle !== this.#current || this.#expectingExit || this.#closed) return;
    this.#restarting = (async () => {
      // The last stderr lines reach the log file a moment after the exit.
      await sleep(300);
      const hint = this.crashHint();
      this.onCrash(
        `${this.name} exited on its own (code ${exit.code}, signal ${exit.signal}) at ${new Date().toISOString()}${hint ? `: ${hint}` : ''}`,
      );
      // A supervisor restarts a crashed process; the run goes on to see whether the rest holds.
      await sleep(700);
      if (!this.#closed)
        await this.start(Date.now() + 60_000).catch((error: unknown) =>
          this.log(`${this.name} restart failed: ${(error as Error).message}`),
        );
    })();
  }

  /** kill -9, down for `downMs`, then started again. */
  async kill(downMs: number, deadlineMs: number): Promise<void> {
    const handle = this.#current;
    if (!handle?.running) return;
    this.#expectingExit = true;
    signalGroup(handle, 'SIGKILL');
    await handle.exited;
    this.#expectingExit = false;
    await sleep(downMs);
    if (!this.#closed) await this.start(deadlineMs);
  }

  /** SIGSTOP for `pausedMs` (past the lease), then SIGCONT. */
  async pause(pausedMs: number): Promise<void> {
    const handle = this.#current;
    if (!handle?.running) return;
    signalGroup(handle, 'SIGSTOP');
    this.#stopped = true;
    await sleep(pausedMs);
    this.resume();
  }

  resume(): void {
    if (this.#stopped && this.#current) signalGroup(this.#current, 'SIGCONT');
    this.#stopped = false;
  }

  /** Heals: continues a stopped process, and starts one that is not running. */
  async ensureRunning(deadlineMs: number): Promise<void> {
    this.resume();
    await this.#restarting;
    if (!this.running) await this.start(deadlineMs);
  }

  /** Ends it for good: SIGCONT (a stopped process cannot handle SIGTERM), SIGTERM, SIGKILL after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.#closed = true;
    const handle = this.#current;
    if (!handle?.running) return;
    signalGroup(handle, 'SIGCONT');
    signalGroup(handle, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(handle, 'SIGKILL'), graceMs);
    await handle.exited;
    clearTimeout(timer);
  }
}
