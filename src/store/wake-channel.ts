/**
 * "Work may be claimable now." The dispatch engine publishes after every transaction that makes work claimable;
 * long-poll waiters subscribe. Delivery is a hint, never a guarantee: waiters re-check the store when woken and
 * when their wait times out, so a lost or spurious wake changes latency, never correctness.
 */
export type WakeChannel = {
  publish(): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
};
