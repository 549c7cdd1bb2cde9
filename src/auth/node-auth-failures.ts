import { RateLimitedLog, type WarnLogger } from '../logger.js';
import { FailureWindow } from './failure-window.js';

/**
 * Failed child (AK-SK) authentications per client address: each is logged (at most one line per address-wide
 * interval, with the count it stands for) and past `maxFailures` in the window the address gets 429 until the
 * oldest failure leaves it. Node keys and secrets are random, so this is about noise and probing, not guessing.
 */
export class NodeAuthFailures {
  readonly #window: FailureWindow;
  readonly #log = new RateLimitedLog(10_000);

  constructor(maxFailures: number, windowMs: number) {
    this.#window = new FailureWindow(maxFailures, windowMs);
  }

  retryAfterSeconds(ip: string): number {
    return this.#window.retryAfterSeconds(ip);
  }

  record(ip: string, apiKey: string, logger: WarnLogger): void {
    this.#window.record(ip);
    // The key identifies a node (it is not secret); a prefix is enough to recognise it and keeps log lines short.
    this.#log.warn(
      logger,
      { client_ip: ip, api_key_prefix: apiKey.slice(0, 10) },
      'child authentication failed (AK-SK)',
    );
  }
}
