/** Where the parent is in its life, as `/readyz` tells a supervisor or load balancer. */
export const ReadinessState = Object.freeze({ starting: 'starting', ready: 'ready', stopping: 'stopping' } as const);
export type ReadinessState = (typeof ReadinessState)[keyof typeof ReadinessState];

/**
 * Ready means: the store is migrated, the sweeper and the scheduler run, and the server listens. Until then, and
 * from the moment shutdown begins, `/readyz` answers 503, so a supervisor can wait on it and a load balancer stops
 * sending work before the process goes away.
 */
export class Readiness {
  #state: ReadinessState = ReadinessState.starting;

  get state(): ReadinessState {
    return this.#state;
  }

  markReady(): void {
    if (this.#state === ReadinessState.starting) this.#state = ReadinessState.ready;
  }

  markStopping(): void {
    this.#state = ReadinessState.stopping;
  }
}
