import type { Environment, Prisma } from "../generated/prisma/client";

// The event vocabulary and the outbox. emitWebhookEvent runs inside the transaction
// of the change it reports, so an event exists exactly when its change committed:
// a crash can lose neither. It fans out to one delivery per subscribed endpoint at
// once, so the worker only ever reads deliveries.

export const WEBHOOK_EVENTS = [
  "key.created",
  "key.updated",
  "key.rolled",
  "key.revoked",
  "key.expiring",
  "key.expired",
  "key.leaked",
  "keys.toggled",
  "service.toggled",
  "deployment.published",
  "ping",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

type Tx = Prisma.TransactionClient;

export interface OutboxEvent {
  workspaceId: string;
  /** null: the change concerns both environments (the workspace's key switch). */
  environment: Environment | null;
  type: WebhookEventType;
  /** Ids and states only: never a key, hash or secret. */
  data: Prisma.InputJsonObject;
  /** Only this endpoint (a test ping), whatever it subscribes to. */
  endpointId?: string;
}

export async function emitWebhookEvent(tx: Tx, event: OutboxEvent, now: Date): Promise<string[]> {
  const endpoints = await tx.webhookEndpoint.findMany({
    where: event.endpointId
      ? { id: event.endpointId }
      : {
          workspaceId: event.workspaceId,
          enabled: true,
          events: { has: event.type },
          ...(event.environment ? { environment: event.environment } : {}),
        },
    select: { id: true },
  });
  if (endpoints.length === 0) return [];
  const row = await tx.webhookEvent.create({
    data: {
      workspaceId: event.workspaceId,
      environment: event.environment,
      type: event.type,
      payload: { type: event.type, timestamp: now.toISOString(), data: event.data },
      createdAt: now,
    },
  });
  const ids: string[] = [];
  for (const endpoint of endpoints) {
    const delivery = await tx.webhookDelivery.create({
      data: { endpointId: endpoint.id, eventId: row.id, nextAttemptAt: now, createdAt: now },
    });
    ids.push(delivery.id);
  }
  return ids;
}

/** A key's event: its id and environment, and what else the change says (never the key itself). */
export function emitKeyEvent(
  tx: Tx,
  key: { id: string; workspaceId: string; environment: Environment },
  type: Extract<WebhookEventType, `key.${string}`>,
  data: Prisma.InputJsonObject,
  now: Date,
): Promise<string[]> {
  const { workspaceId, environment } = key;
  return emitWebhookEvent(tx, { workspaceId, environment, type, data: { keyId: key.id, environment, ...data } }, now);
}
