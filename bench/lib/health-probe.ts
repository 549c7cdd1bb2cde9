import { percentile } from './stats.js';

export type HealthProbe = {
  /** Stops probing and returns the p99 of the `/healthz` round trips, in milliseconds. */
  stop(): Promise<{ samples: number; p99Ms: number }>;
};

/** Pause between probes: often enough to catch a stall of a few tens of milliseconds, rare enough to add no load. */
const PROBE_GAP_MS = 20;

/**
 * Probes `GET /healthz` one request at a time while a scenario loads the parent, from the bench's own process (not
 * the load generator, whose event loop is busy). `/healthz` does no I/O, so its latency is the time the parent's
 * event loop takes to get to a request: a synchronous stall shows up in it directly (issue 11, defect 6).
 */
export function startHealthProbe(parentUrl: string): HealthProbe {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${parentUrl}/healthz`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`/healthz answered ${response.status} during the run`);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples: latencies.length, p99Ms: percentile(latencies, 99) };
    },
  };
}
