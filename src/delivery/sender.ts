import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/schema.js';
import { deliveryRetryDelayMs } from '../domain/delivery-states.js';
import { CascadeError } from '../errors/cascade-error.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Delivery, SendOutcome } from '../store/deliveries/deliveries-store.js';
import type { Store } from '../store/store.js';
import { composeMessage, sampleArticles } from './compose.js';
import type { HttpAnswer, HttpSend } from './http-send.js';
import { botRefusal, buildRequest, receiverKind, type ReceiverKind } from './message-formats.js';

/** How one answer moves a delivery. */
type Verdict = { move: 'deliver' } | { move: 'retry'; retryAfterSeconds: number | undefined } | { move: 'fail' };

/** 2xx is delivered; silence, 5xx, 429 and a bot's refusal in a 200 may pass; any other answer will not change. */
export function judgeAnswer(answer: HttpAnswer, refusal: string | undefined): Verdict {
  if (answer.status >= 200 && answer.status < 300 && refusal === undefined) return { move: 'deliver' };
  if (answer.status === 0 || answer.status >= 500 || answer.status === 429 || refusal !== undefined)
    return { move: 'retry', retryAfterSeconds: answer.retryAfterSeconds };
  return { move: 'fail' };
}

/**
 * Sends due deliveries every `poll_interval_ms`: recovers the ones a stopped sender left `sending`, claims up to
 * `concurrency`, sends them at once and records each answer. Runs in every parent; the claim makes each delivery
 * one sender's at a time. Never throws out of its loop.
 */
export class DeliverySender {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(
    private readonly store: Store,
    private readonly settings: DeliveryConfig,
    private readonly send: HttpSend,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops polling and waits for the sends in flight to be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass; returns how many deliveries it sent. */
  async runOnce(nowMs = Date.now()): Promise<number> {
    const recovered = await this.store.deliveries.recoverExpired(this.settings.max_attempts, nowMs);
    if (recovered.retried + recovered.failed > 0)
      this.logger.warn(recovered, 'recovered deliveries whose sender stopped mid-send');
    if (recovered.failed > 0) this.metrics?.deliveries.inc({ outcome: 'failed' }, recovered.failed);
    const claimed = await this.store.deliveries.claim(
      this.settings.concurrency,
      this.settings.lease_seconds * 1000,
      nowMs,
    );
    await Promise.all(claimed.map((delivery) => this.#deliver(delivery)));
    return claimed.length;
  }

  async #deliver(delivery: Delivery): Promise<void> {
    let outcome: SendOutcome;
    let verdict: Verdict;
    try {
      const task = await this.store.tasks.get(delivery.taskId);
      const articles = await this.store.deliveries.articles(delivery.id);
      const message = await composeMessage(
        task,
        await this.store.tasks.webhookSecret(task),
        delivery.id,
        articles,
        this.settings.timeout_seconds * 1000,
        Date.now(),
      );
      const answer = await this.send(buildRequest(message));
      const refusal = botRefusal(receiverKind(message.messageType, message.webhookUrl), answer);
      outcome = {
        statusCode: answer.status === 0 ? null : answer.status,
        response: answer.body || null,
        error: answer.error ?? refusal ?? null,
      };
      verdict = judgeAnswer(answer, refusal);
    } catch (error) {
      // A deleted task or a template that fails to render: sending again cannot help.
      if (!(error instanceof CascadeError)) throw error;
      outcome = { statusCode: null, response: null, error: error.message };
      verdict = { move: 'fail' };
    }
    await this.#record(delivery, verdict, outcome);
  }

  async #record(delivery: Delivery, verdict: Verdict, outcome: SendOutcome): Promise<void> {
    const nowMs = Date.now();
    const { deliveries } = this.store;
    const lastAttempt = delivery.attempt >= this.settings.max_attempts;
    let recorded: boolean;
    let label: 'delivered' | 'retried' | 'failed';
    if (verdict.move === 'deliver') {
      recorded = await deliveries.markDelivered(delivery, outcome, nowMs);
      label = 'delivered';
      if (recorded) this.metrics?.deliverySeconds.observe((nowMs - delivery.createdAt) / 1000);
    } else if (verdict.move === 'retry' && !lastAttempt) {
      const delay = deliveryRetryDelayMs(
        delivery.attempt,
        this.settings.retry_backoff_seconds,
        this.settings.retry_backoff_max_seconds,
        verdict.retryAfterSeconds,
      );
      recorded = await deliveries.markRetry(delivery, outcome, nowMs + delay, nowMs);
      label = 'retried';
    } else {
      recorded = await deliveries.markFailed(delivery, outcome, nowMs);
      label = 'failed';
    }
    if (!recorded) {
      this.logger.warn(
        { delivery: delivery.id, attempt: delivery.attempt },
        'delivery attempt was taken over after its lease expired; its answer is not recorded',
      );
      return;
    }
    this.metrics?.deliveries.inc({ outcome: label });
    const log = {
      delivery: delivery.id,
      task: delivery.taskId,
      attempt: delivery.attempt,
      status: outcome.statusCode,
      error: outcome.error,
    };
    if (label === 'delivered') this.logger.info(log, 'delivery delivered');
    else this.logger.warn(log, label === 'retried' ? 'delivery will be retried' : 'delivery failed');
  }

  /** Renders and sends a sample message of a task now, outside the outbox, and answers with what the receiver said. */
  async sendTest(
    taskId: string,
  ): Promise<{ receiver: ReceiverKind; status: number; response: string; error: string | null; delivered: boolean }> {
    const task = await this.store.tasks.get(taskId);
    if (task.webHookUrl === '')
      throw new CascadeError('UNPROCESSABLE', `Message task '${taskId}' has no web_hook_url to send to.`);
    const nowMs = Date.now();
    const message = await composeMessage(
      task,
      await this.store.tasks.webhookSecret(task),
      `test-${randomUUID()}`,
      await sampleArticles(this.store, task, nowMs),
      this.settings.timeout_seconds * 1000,
      nowMs,
    );
    const answer = await this.send(buildRequest(message));
    const receiver = receiverKind(message.messageType, message.webhookUrl);
    const refusal = botRefusal(receiver, answer);
    return {
      receiver,
      status: answer.status,
      response: answer.body,
      error: answer.error ?? refusal ?? null,
      delivered: judgeAnswer(answer, refusal).move === 'deliver',
    };
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .then((sent) => this.#schedule(sent === this.settings.concurrency ? 0 : this.settings.poll_interval_ms))
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'delivery pass failed; retrying next interval');
          this.#schedule(this.settings.poll_interval_ms);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
