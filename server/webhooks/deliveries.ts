import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import type { WebhookDelivery } from "../generated/prisma/client";
import { isUuid } from "../loaders";

// Reading and replaying an endpoint's deliveries. A redelivery starts the retry
// schedule afresh; the earlier attempts stay listed.

export const MAX_DELIVERIES_LISTED = 100;

export async function listDeliveries(db: Db, endpointId: string, first: number) {
  return db.webhookDelivery.findMany({
    where: { endpointId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(Math.max(first, 1), MAX_DELIVERIES_LISTED),
    include: { event: true, attempts: { orderBy: { createdAt: "asc" } } },
  });
}

/** One delivery with its event and attempts (a delivery just queued). */
export async function getDelivery(db: Db, id: string) {
  return db.webhookDelivery.findUniqueOrThrow({
    where: { id },
    include: { event: true, attempts: { orderBy: { createdAt: "asc" } } },
  });
}

export async function findDelivery(db: Db, id: string): Promise<WebhookDelivery | null> {
  return isUuid(id) ? db.webhookDelivery.findUnique({ where: { id } }) : null;
}

export async function redeliver(db: Db, actor: Actor, delivery: WebhookDelivery, workspaceId: string, now: Date) {
  return db.$transaction(async (tx) => {
    const updated = await tx.webhookDelivery.update({
      where: { id: delivery.id },
      data: { status: "PENDING", attemptCount: 0, nextAttemptAt: now },
      include: { event: true, attempts: { orderBy: { createdAt: "asc" } } },
    });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId,
        action: "webhook_delivery.redeliver",
        targetType: "webhook_delivery",
        targetId: delivery.id,
        data: { endpointId: delivery.endpointId },
      },
      now,
    );
    return updated;
  });
}
