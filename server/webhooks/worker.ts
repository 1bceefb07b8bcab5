import type { Logger } from "pino";
import type { Db } from "../db";
import type { WebhookDelivery, WebhookEndpoint } from "../generated/prisma/client";
import type { SecretBox } from "../keys/secret-box";
import { disableIfFailingForDays } from "./health";
import { postWebhook } from "./post";
import { signatureHeaders, signingSecrets } from "./signing";
import { refuseUrl, type UrlPolicy } from "./ssrf";

// The delivery worker. Each tick claims due deliveries with FOR UPDATE SKIP LOCKED
// and pushes their next attempt a lease into the future before sending, so several
// instances never send the same delivery at once, and a delivery whose instance
// died mid-send is sent again when its lease runs out: nothing is lost (receivers
// de-duplicate on webhook-id, as Standard Webhooks expects).

/** The first attempt and 7 retries, spread over about a day (retryDelayMs). */
export const MAX_ATTEMPTS = 8;
const LEASE_MS = 60_000;
const BATCH = 20;

/** Exponential backoff from 30 s (×4 each time, at most 12 h), ±20 % jitter so failures do not retry in step. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 4 ** (attempt - 1), 12 * 3600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface WorkerDeps {
  db: Db;
  box: SecretBox;
  clock: () => Date;
  logger: Logger;
  policy: UrlPolicy;
  timeoutMs: number;
  intervalMs: number;
}

/** Attempts so far by result, read by the metrics when scraped. */
export interface DeliveryStats {
  succeeded: number;
  failed: number;
  /** Deliveries given up after their last attempt. */
  abandoned: number;
}

export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> = Promise.resolve(0);
  /** Cuts off the sends under way when stop's grace runs out. */
  private readonly stopping = new AbortController();
  readonly stats: DeliveryStats = { succeeded: 0, failed: 0, abandoned: 0 };

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.deps.intervalMs);
    this.timer.unref();
  }

  /**
   * Claims no more. Sends under way may finish within graceMs; then they are cut
   * off and handed back (due at once, no attempt recorded), so whoever runs next
   * sends them without waiting for their lease to end.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const cutoff = setTimeout(() => this.stopping.abort(), graceMs);
    try {
      await this.running;
    } finally {
      clearTimeout(cutoff);
    }
  }

  /** One pass over due deliveries, after any pass already under way. Returns how many it sent. */
  run(): Promise<number> {
    this.running = this.running
      .then(() => this.tick())
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, "webhook delivery pass failed");
        return 0;
      });
    return this.running;
  }

  private async tick(): Promise<number> {
    const ids = await this.claim(this.deps.clock());
    await Promise.all(ids.map((id) => this.deliver(id)));
    return ids.length;
  }

  private async claim(now: Date): Promise<string[]> {
    return this.deps.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM webhook_deliveries
        WHERE status = 'PENDING' AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED`;
      const ids = rows.map((row) => row.id);
      if (ids.length) {
        await tx.webhookDelivery.updateMany({
          where: { id: { in: ids } },
          data: { nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
        });
      }
      return ids;
    });
  }

  private async deliver(id: string): Promise<void> {
    const { db, box, clock, policy } = this.deps;
    const delivery = await db.webhookDelivery.findUnique({ where: { id }, include: { endpoint: true, event: true } });
    if (!delivery) return;
    const { endpoint, event } = delivery;
    if (!endpoint.enabled && event.type !== "ping") {
      await db.webhookDelivery.update({ where: { id }, data: { status: "FAILED", nextAttemptAt: null } });
      return;
    }
    const now = clock();
    const body = JSON.stringify(event.payload);
    // Again at send time: the host may resolve elsewhere than when it was saved.
    const refused = await refuseUrl(endpoint.url, policy);
    const result = refused
      ? { statusCode: null, body: `refused: url ${refused}`, latencyMs: 0 }
      : await postWebhook(
          endpoint.url,
          body,
          signatureHeaders(event.id, body, signingSecrets(endpoint, box, now), now),
          {
            timeoutMs: this.deps.timeoutMs,
            allowPrivate: policy.allowPrivate,
            signal: this.stopping.signal,
          },
        );
    if ("aborted" in result && result.aborted) {
      await db.webhookDelivery.updateMany({ where: { id, status: "PENDING" }, data: { nextAttemptAt: clock() } });
      return;
    }
    await this.record(delivery, endpoint, result, clock());
  }

  private async record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: { statusCode: number | null; body: string; latencyMs: number },
    now: Date,
  ): Promise<void> {
    const attemptCount = delivery.attemptCount + 1;
    const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const status = succeeded ? "SUCCEEDED" : attemptCount >= MAX_ATTEMPTS ? "FAILED" : "PENDING";
    if (succeeded) this.stats.succeeded++;
    else this.stats.failed++;
    if (status === "FAILED") this.stats.abandoned++;
    await this.deps.db.$transaction([
      this.deps.db.webhookAttempt.create({
        data: {
          deliveryId: delivery.id,
          statusCode: result.statusCode,
          latencyMs: result.latencyMs,
          responseBody: result.body,
          createdAt: now,
        },
      }),
      this.deps.db.webhookDelivery.update({
        where: { id: delivery.id },
        data: {
          attemptCount,
          status,
          nextAttemptAt: status === "PENDING" ? new Date(now.getTime() + retryDelayMs(attemptCount)) : null,
        },
      }),
    ]);
    if (!succeeded && (await disableIfFailingForDays(this.deps.db, endpoint, now))) {
      this.deps.logger.warn({ endpointId: endpoint.id }, "disabled a webhook endpoint failing for days");
    }
  }
}
