import type { Logger } from 'pino';
import { NOTIFY_SIGNATURE_HEADER, signedNotify } from '../auth/notify-signature.js';
import type { GuardedFetch } from '../net/guarded-fetch.js';
import type { Store } from '../store/store.js';

export type Placement = { allocationId: string; nodeId: string; feedCount: number };

/** A notify is a hint: a child that does not answer within this time claims on its own schedule anyway. */
const NOTIFY_TIMEOUT_MS = 2000;

/**
 * After a dispatch pre-assigns work to nodes, tells each node that has an `api_url` to claim now (docs/protocol.md §3.3),
 * as the original parent pushed new work to its children. Best effort and never awaited by the dispatch: a failed
 * notify is logged at debug level and changes nothing, since the child's long-poll or claim interval finds the work.
 */
export class NodeNotifier {
  readonly #sending = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    /** Through the network policy: a node's api_url is an address someone typed in. */
    private readonly fetch: GuardedFetch,
    private readonly timeoutMs = NOTIFY_TIMEOUT_MS,
  ) {}

  /** Starts the notifies and returns at once. */
  notify(placements: readonly Placement[]): void {
    if (placements.length === 0) return;
    const sending = this.#send(placements).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not look up nodes to notify'),
    );
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  /** Resolves when every notify started so far has answered or timed out (the parent waits for them when it closes). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#sending]);
  }

  async #send(placements: readonly Placement[]): Promise<void> {
    const byNode = new Map<string, Placement[]>();
    for (const placement of placements)
      byNode.set(placement.nodeId, [...(byNode.get(placement.nodeId) ?? []), placement]);
    const targets = await this.store.nodes.notifyTargets([...byNode.keys()]);
    await Promise.all(
      targets.map(async (target) => {
        const mine = byNode.get(target.id) ?? [];
        const first = mine[0] as Placement;
        const { body, signature } = signedNotify(target.notify_key, {
          allocation_id: first.allocationId,
          feed_count: mine.reduce((n, p) => n + p.feedCount, 0),
        });
        const url = `${target.api_url.replace(/\/+$/, '')}/api/v1/cascade/notify`;
        try {
          const response = await this.fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [NOTIFY_SIGNATURE_HEADER]: signature },
            body,
            redirect: 'manual',
            signal: AbortSignal.timeout(this.timeoutMs),
          });
          await response.body?.cancel();
          if (!response.ok)
            this.logger.warn(
              { node: target.name, status: response.status },
              'node refused the new-work notify (check its notify_key)',
            );
        } catch (error) {
          this.logger.debug(
            { node: target.name, reason: (error as Error).message },
            'node did not take the new-work notify; it claims on its own schedule',
          );
        }
      }),
    );
  }
}
