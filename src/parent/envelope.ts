/** The success half of the protocol envelope (docs/protocol.md §1.2); errors are shaped in plugins/error-envelope.ts. */
export type Envelope<T> = { code: 0; message: string; data: T };

export function ok<T>(data: T, message = 'ok'): Envelope<T> {
  return { code: 0, message, data };
}

export type Page<T> = { list: T[]; total: number; page: { limit: number; offset: number } };

export function page<T>(list: T[], total: number, limit: number, offset: number): Page<T> {
  return { list, total, page: { limit, offset } };
}
