import { waitFor } from './wait.js';

export type SseFrame = { id?: string; event: string; data: string };

/** A real EventSource-style reader over fetch: collects every frame the server sends until closed. */
export class SseReader {
  readonly frames: SseFrame[] = [];
  status = 0;
  ended = false;
  readonly #abort = new AbortController();
  #done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: reader.#abort.signal,
    });
    reader.status = response.status;
    reader.contentType = response.headers.get('content-type') ?? '';
    if (!response.body || response.status !== 200) {
      reader.body = await response.text();
      reader.ended = true;
      return reader;
    }
    reader.#done = reader.#read(response.body);
    return reader;
  }

  contentType = '';
  body = '';

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'id') frame.id = value;
            if (field === 'event') frame.event = value;
            if (field === 'data') {
              frame.data += value;
              hasData = true;
            }
          }
          if (hasData) this.frames.push(frame);
        }
      }
    } catch {
      // Aborted by close(): the frames read so far stay.
    } finally {
      this.ended = true;
    }
  }

  of<T>(event: string): Array<T & { _id: string | undefined }> {
    return this.frames.filter((f) => f.event === event).map((f) => ({ ...(JSON.parse(f.data) as T), _id: f.id }));
  }

  /** Waits until `match` finds a frame of type `event`. */
  async waitFor<T>(
    what: string,
    event: string,
    match: (data: T) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<T & { _id: string | undefined }> {
    return waitFor(what, () => this.of<T>(event).find(match), timeoutMs);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}
