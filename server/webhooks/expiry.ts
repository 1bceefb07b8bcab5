import type { Logger } from "pino";
import type { Db } from "../db";
import type { Environment } from "../generated/prisma/client";
import { emitKeyEvent } from "./events";

// Expiry alerts: key.expiring 7 days and 1 day before a key expires, key.expired once
// it has. A pass runs in one transaction that first takes a transaction-scoped
// advisory lock, so one instance at a time does the work and the lock ends with the
// transaction even if its instance dies. Each alert is a row in key_expiry_alerts
// written in the same transaction as its outbox event, and the row's primary key
// (key, expiry, threshold) makes a second send impossible even without the lock.
//
// Only the most urgent threshold that applies is sent: a key first seen 12 hours
// before its expiry gets the 1-day alert, not a late 7-day one too. A revoked key
// and a rolled key (its successor carries the same expiry and gets the alerts) get
// none. A new expiry (updateApiKey) is a new series: alerts for it are sent afresh.

export const THRESHOLDS = { "7d": 7 * 86_400_000, "1d": 86_400_000 } as const;
export type Threshold = keyof typeof THRESHOLDS | "expired";

/** Any constant both databases accept as a bigint; only this job uses it. */
export const LOCK_KEY = 72_657_920;
/** Alerts per transaction; a pass takes batches until none is left. */
const BATCH = 200;
/** A batch writes a few rows per alert: give it longer than Prisma's 5 s default. */
const TX_OPTIONS = { maxWait: 10_000, timeout: 60_000 };

interface Due {
  id: string;
  workspace_id: string;
  environment: Environment;
  expires_at: Date;
  threshold: Threshold;
}

export interface ExpiryDeps {
  db: Db;
  clock: () => Date;
  logger: Logger;
  intervalMs: number;
}

export class ExpiryAlerts {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number | null> = Promise.resolve(0);

  constructor(private readonly deps: ExpiryDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: the alerts it enqueued, or null when another instance held the lock. */
  run(): Promise<number | null> {
    this.running = this.running
      .then(() => this.pass())
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, "expiry alert pass failed");
        return 0;
      });
    return this.running;
  }

  private async pass(): Promise<number | null> {
    let total = 0;
    for (;;) {
      const sent = await this.batch(this.deps.clock());
      if (sent === null) return total === 0 ? null : total;
      total += sent.alerts;
      if (sent.seen < BATCH) return total;
    }
  }

  private batch(now: Date): Promise<{ seen: number; alerts: number } | null> {
    return this.deps.db.$transaction(async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS locked`;
      if (!lock?.locked) return null;
      const dayLeft = new Date(now.getTime() + THRESHOLDS["1d"]);
      const weekLeft = new Date(now.getTime() + THRESHOLDS["7d"]);
      const due = await tx.$queryRaw<Due[]>`
        SELECT k.id::text, k.workspace_id::text, k.environment::text AS environment, k.expires_at, t.threshold
        FROM api_keys k
        CROSS JOIN LATERAL (SELECT CASE
          WHEN k.expires_at <= ${now} THEN 'expired'
          WHEN k.expires_at <= ${dayLeft} THEN '1d'
          ELSE '7d' END AS threshold) t
        WHERE k.expires_at <= ${weekLeft} AND k.revoked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM api_keys s WHERE s.rolled_from_id = k.id)
          AND NOT EXISTS (SELECT 1 FROM key_expiry_alerts a
            WHERE a.key_id = k.id AND a.expires_at = k.expires_at AND a.threshold = t.threshold)
        ORDER BY k.expires_at LIMIT ${BATCH}`;
      let alerts = 0;
      for (const key of due) {
        const { count } = await tx.keyExpiryAlert.createMany({
          data: { keyId: key.id, expiresAt: key.expires_at, threshold: key.threshold, sentAt: now },
          skipDuplicates: true,
        });
        if (count === 0) continue;
        const subject = { id: key.id, workspaceId: key.workspace_id, environment: key.environment };
        const expiresAt = key.expires_at.toISOString();
        if (key.threshold === "expired") await emitKeyEvent(tx, subject, "key.expired", { expiresAt }, now);
        else await emitKeyEvent(tx, subject, "key.expiring", { expiresAt, within: key.threshold }, now);
        alerts++;
      }
      return { seen: due.length, alerts };
    }, TX_OPTIONS);
  }
}
