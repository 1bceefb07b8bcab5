import { recordAudit } from "../audit/log";
import type { Db } from "../db";

// An endpoint that has failed for days is switched off, so the worker stops spending
// attempts on it and its owners see why in the audit log. Re-enabling it
// (updateWebhookEndpoint enabled: true) is a person's decision.

/** No successful attempt since a failed one at least this old: the endpoint is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 3600_000;

const SERVER = { type: "system", id: null, ip: null } as const;

/** Called after a failed attempt. Returns whether it disabled the endpoint. */
export async function disableIfFailingForDays(
  db: Db,
  endpoint: { id: string; workspaceId: string },
  now: Date,
): Promise<boolean> {
  const ofEndpoint = { delivery: { endpointId: endpoint.id } };
  const lastSuccess = await db.webhookAttempt.findFirst({
    where: { ...ofEndpoint, statusCode: { gte: 200, lt: 300 } },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });
  const firstFailure = await db.webhookAttempt.findFirst({
    where: { ...ofEndpoint, ...(lastSuccess ? { createdAt: { gt: lastSuccess.createdAt } } : {}) },
    orderBy: { createdAt: "asc" },
    select: { createdAt: true },
  });
  if (!firstFailure || now.getTime() - firstFailure.createdAt.getTime() < DISABLE_AFTER_MS) return false;
  return db.$transaction(async (tx) => {
    // Conditional: of two workers seeing the same failure, one disables and audits.
    const { count } = await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id, enabled: true },
      data: { enabled: false },
    });
    if (count === 0) return false;
    await recordAudit(
      tx,
      SERVER,
      {
        workspaceId: endpoint.workspaceId,
        action: "webhook_endpoint.auto_disable",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        data: { failingSince: firstFailure.createdAt.toISOString() },
      },
      now,
    );
    return true;
  });
}
