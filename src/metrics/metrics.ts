import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ALL_DELIVERY_STATUSES } from '../domain/delivery-states.js';
import type { Store } from '../store/store.js';

/** A claim not started (`executing`) after this long is counted by `cascade_allocations_claimed_unstarted`. */
const CLAIMED_UNSTARTED_AFTER_SECONDS = 30;

/** `cascade_host_in_flight` shows this many hosts at most, so its label set stays bounded. */
const HOST_GAUGE_LIMIT = 20;

/**
 * Prometheus metrics of one parent, in a registry of its own (several parents may share a test process).
 * Gauges that describe the store (allocations by status, nodes online) are read from it at scrape time, so
 * every parent on one database reports the same truth.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly claims: Counter<'source'>;
  readonly completions: Counter;
  readonly failures: Counter;
  readonly requeues: Counter<'reason'>;
  readonly timeouts: Counter;
  readonly stalls: Counter;
  readonly dispatches: Counter<'trigger'>;
  readonly claimWaitSeconds: Histogram;
  readonly claimRechecks: Counter<'cause'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly refusedReports: Counter<'route' | 'code'>;
  /** Outbox depth each child last reported in its heartbeat to this parent, by node id. */
  readonly outboxDepths = new Map<string, { node: string; depth: number }>();
  readonly deliveries: Counter<'outcome'>;
  readonly deliverySeconds: Histogram;
  readonly hostPauses: Counter;

  constructor(store: Store, offlineAfterSeconds: number) {
    const registers = [this.registry];
    this.claims = new Counter({
      name: 'cascade_claims_total',
      help: 'Allocations claimed by child nodes.',
      labelNames: ['source'],
      registers,
    });
    this.completions = new Counter({ name: 'cascade_completions_total', help: 'Allocations completed.', registers });
    this.failures = new Counter({
      name: 'cascade_failures_total',
      help: 'Failed reports from child nodes (retried or final).',
      registers,
    });
    this.requeues = new Counter({
      name: 'cascade_requeues_total',
      help: 'Allocations put back to pending.',
      labelNames: ['reason'],
      registers,
    });
    this.timeouts = new Counter({
      name: 'cascade_timeouts_total',
      help: 'Allocations that ran out of attempts after lease expiry.',
      registers,
    });
    this.stalls = new Counter({
      name: 'cascade_stalls_total',
      help: 'Executing allocations flagged stalled: no progress for dispatch.stall_seconds while their node kept beating.',
      registers,
    });
    new Gauge({
      name: 'cascade_allocations_stalled',
      help: 'Executing allocations flagged stalled now (requeued after a second dispatch.stall_seconds without progress).',
      registers,
      async collect() {
        this.set(await store.allocations.views.countStalled());
      },
    });
    this.dispatches = new Counter({
      name: 'cascade_dispatches_total',
      help: 'Task dispatches run.',
      labelNames: ['trigger'],
      registers,
    });
    this.claimWaitSeconds = new Histogram({
      name: 'cascade_dispatch_to_claim_seconds',
      help: 'Time from an allocation becoming claimable (dispatch or retry) to its claim.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.claimRechecks = new Counter({
      name: 'cascade_claim_rechecks_total',
      help: 'Times a waiting claim long-poll looked for work again, by what ended its wait: wake (the wake channel: work made claimable in this parent, or another parent via NOTIFY or the work epoch), timer (its wait or a host interval ran out), abort (the child went away or the parent is stopping).',
      labelNames: ['cause'],
      registers,
    });
    // Every cause from the start, so a scrape shows 0 rather than no series (and rate() has a starting point).
    for (const cause of ['wake', 'timer', 'abort']) this.claimRechecks.inc({ cause }, 0);
    this.httpSeconds = new Histogram({
      name: 'cascade_http_request_duration_seconds',
      help: 'HTTP request duration by route.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    });
    this.refusedReports = new Counter({
      name: 'cascade_refused_reports_total',
      help: 'Late reports from children refused because the node no longer holds the allocation (LEASE_LOST, INVALID_TRANSITION), by route.',
      labelNames: ['route', 'code'],
      registers,
    });
    const outboxDepths = this.outboxDepths;
    new Gauge({
      name: 'cascade_node_outbox_depth',
      help: "Calls waiting in a child node's outbox, as it last reported in a heartbeat to this parent.",
      labelNames: ['node_id', 'node'],
      registers,
      collect() {
        this.reset();
        for (const [nodeId, { node, depth }] of outboxDepths) this.set({ node_id: nodeId, node }, depth);
      },
    });
    new Gauge({
      name: 'cascade_allocations_claimed_unstarted',
      help: `Allocations claimed more than ${CLAIMED_UNSTARTED_AFTER_SECONDS} s ago and not yet started by their node (the claim answer may never have arrived).`,
      registers,
      async collect() {
        this.set(await store.allocations.views.countClaimedBefore(Date.now() - CLAIMED_UNSTARTED_AFTER_SECONDS * 1000));
      },
    });
    this.hostPauses = new Counter({
      name: 'cascade_host_pauses_total',
      help: 'Hosts paused fleet-wide because a child reported 429/503 with Retry-After (politeness).',
      registers,
    });
    new Gauge({
      name: 'cascade_host_in_flight',
      help: `Feeds in claimed or executing allocations per host, for the ${HOST_GAUGE_LIMIT} busiest hosts (politeness; GET /api/v1/cascade/hosts lists all).`,
      labelNames: ['host'],
      registers,
      async collect() {
        this.reset();
        for (const { host, inFlight } of await store.hosts.inFlight(HOST_GAUGE_LIMIT)) this.set({ host }, inFlight);
      },
    });
    this.deliveries = new Counter({
      name: 'cascade_deliveries_total',
      help: 'Delivery sends by outcome (delivered, retried, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'cascade_delivery_latency_seconds',
      help: 'Time from a delivery being created to the receiver accepting it (batch window and retries included).',
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    new Gauge({
      name: 'cascade_deliveries',
      help: 'Deliveries by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await store.deliveries.countByStatus();
        this.reset();
        for (const status of ALL_DELIVERY_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'cascade_allocations',
      help: 'Allocations by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await store.allocations.views.countByStatus();
        this.reset();
        for (const status of ['pending', 'claimed', 'executing', 'completed', 'failed', 'timeout', 'cancelled'])
          this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'cascade_claims_waiting',
      help: 'Claim long-polls parked in this parent, waiting for work.',
      registers,
      collect() {
        this.set(store.wake.subscriberCount);
      },
    });
    new Gauge({
      name: 'cascade_node_held_feeds_disagreement',
      help: 'Per online child node: feeds the parent counts in its claimed and executing allocations minus the feeds its last heartbeat reported holding (current_tasks). Lasting non-zero values mean work held that the child does not run, or the reverse.',
      labelNames: ['node'],
      registers,
      async collect() {
        const held = await store.allocations.views.heldFeedsByNode();
        const reports = await store.nodes.onlineChildReports(Date.now());
        this.reset();
        for (const node of reports) this.set({ node: node.name }, (held.get(node.id) ?? 0) - node.reportedFeeds);
      },
    });
    new Gauge({
      name: 'cascade_nodes_online',
      help: 'Child nodes online (heartbeat within offline_after_seconds).',
      registers,
      async collect() {
        this.set(await store.dispatchSources.onlineNodeCount(Date.now(), offlineAfterSeconds));
      },
    });
  }
}
