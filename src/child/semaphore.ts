/** At most `limit` tasks at once; the rest wait in FIFO order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private limit: number) {}

  /** Changes the limit: a larger one starts waiting tasks at once, a smaller one holds new ones back. */
  resize(limit: number): void {
    this.limit = limit;
    this.admitWaiting();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A slot is taken when granted (here or in admitWaiting), so a grant is never counted twice.
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.active--;
      this.admitWaiting();
    }
  }

  private admitWaiting(): void {
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()?.();
    }
  }
}
