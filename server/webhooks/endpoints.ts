import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Environment, WebhookEndpoint } from "../generated/prisma/client";
import type { SecretBox } from "../keys/secret-box";
import { isUuid } from "../loaders";
import { validate } from "../validation";
import { emitWebhookEvent, WEBHOOK_EVENTS } from "./events";
import { newWebhookSecret, ROTATION_OVERLAP_MS } from "./signing";
import { refuseUrl, type UrlPolicy } from "./ssrf";

// A workspace's webhook endpoints, per environment. The signing secret is shown
// once, at creation and at rotation; it is kept sealed under the master key
// because the server must sign with it.

export const MAX_ENDPOINTS = 20;

const events = z
  .array(z.string())
  .min(1, "subscribe to at least one event")
  .max(WEBHOOK_EVENTS.length)
  .refine((list) => list.every((e) => (WEBHOOK_EVENTS as readonly string[]).includes(e)), {
    message: `each must be one of ${WEBHOOK_EVENTS.join(", ")}`,
  })
  .transform((list) => [...new Set(list)]);
const fields = {
  url: z.string().trim().max(2000, "must be at most 2000 characters"),
  events,
  description: z.string().trim().max(500, "must be at most 500 characters"),
  enabled: z.boolean(),
};
const createInput = z.object({
  url: fields.url,
  events: fields.events,
  description: fields.description.default(""),
  enabled: fields.enabled.default(true),
});
const updateInput = z.object({
  url: fields.url.nullish(),
  events: fields.events.nullish(),
  description: fields.description.nullish(),
  enabled: fields.enabled.nullish(),
});

export interface CreatedEndpoint {
  endpoint: WebhookEndpoint;
  /** Shown once. */
  secret: string;
}

async function checkUrl(url: string, policy: UrlPolicy): Promise<Result<true>> {
  const refused = await refuseUrl(url, policy);
  return refused ? fail("validation_failed", `url: ${refused}`, "url") : ok(true);
}

const audited = (endpoint: WebhookEndpoint) => ({
  url: endpoint.url,
  environment: endpoint.environment,
  events: endpoint.events,
  enabled: endpoint.enabled,
});

export async function listEndpoints(db: Db, workspaceId: string, environment: Environment) {
  return db.webhookEndpoint.findMany({ where: { workspaceId, environment }, orderBy: { createdAt: "asc" } });
}

export async function findEndpoint(db: Db, id: string): Promise<WebhookEndpoint | null> {
  return isUuid(id) ? db.webhookEndpoint.findUnique({ where: { id } }) : null;
}

export async function createEndpoint(
  db: Db,
  actor: Actor,
  target: { workspaceId: string; environment: Environment },
  input: unknown,
  deps: { box: SecretBox; policy: UrlPolicy; now: Date },
): Promise<Result<CreatedEndpoint>> {
  const valid = validate(createInput, input);
  if (!valid.ok) return valid;
  const url = await checkUrl(valid.value.url, deps.policy);
  if (!url.ok) return url;
  const secret = newWebhookSecret();
  return db.$transaction(async (tx): Promise<Result<CreatedEndpoint>> => {
    await tx.$queryRaw`SELECT id FROM workspaces WHERE id = ${target.workspaceId}::uuid FOR UPDATE`;
    if ((await tx.webhookEndpoint.count({ where: { workspaceId: target.workspaceId } })) >= MAX_ENDPOINTS) {
      return fail("validation_failed", `url: a workspace has at most ${MAX_ENDPOINTS} webhook endpoints`, "url");
    }
    const endpoint = await tx.webhookEndpoint.create({
      data: { ...target, ...valid.value, sealedSecret: deps.box.seal(secret), createdAt: deps.now },
    });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: target.workspaceId,
        action: "webhook_endpoint.create",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        data: audited(endpoint),
      },
      deps.now,
    );
    return ok({ endpoint, secret });
  });
}

export async function updateEndpoint(
  db: Db,
  actor: Actor,
  endpoint: WebhookEndpoint,
  input: unknown,
  deps: { policy: UrlPolicy; now: Date },
): Promise<Result<WebhookEndpoint>> {
  const valid = validate(updateInput, input);
  if (!valid.ok) return valid;
  const v = valid.value;
  if (v.url != null) {
    const url = await checkUrl(v.url, deps.policy);
    if (!url.ok) return url;
  }
  const data = Object.fromEntries(Object.entries(v).filter(([, value]) => value != null));
  return db.$transaction(async (tx) => {
    const updated = await tx.webhookEndpoint.update({ where: { id: endpoint.id }, data });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: endpoint.workspaceId,
        action: "webhook_endpoint.update",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        data: { changed: Object.keys(data), ...audited(updated) },
      },
      deps.now,
    );
    return ok(updated);
  });
}

export async function deleteEndpoint(db: Db, actor: Actor, endpoint: WebhookEndpoint, now: Date): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.delete({ where: { id: endpoint.id } });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: endpoint.workspaceId,
        action: "webhook_endpoint.delete",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        data: audited(endpoint),
      },
      now,
    );
  });
}

/** A new secret; the current one keeps signing beside it for ROTATION_OVERLAP_MS. */
export async function rotateSecret(
  db: Db,
  actor: Actor,
  endpoint: WebhookEndpoint,
  deps: { box: SecretBox; now: Date },
): Promise<CreatedEndpoint> {
  const secret = newWebhookSecret();
  const until = new Date(deps.now.getTime() + ROTATION_OVERLAP_MS);
  return db.$transaction(async (tx) => {
    const updated = await tx.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        sealedSecret: deps.box.seal(secret),
        previousSealedSecret: endpoint.sealedSecret,
        previousSecretUntil: until,
      },
    });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: endpoint.workspaceId,
        action: "webhook_endpoint.rotate_secret",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        data: { previousSecretUntil: until.toISOString() },
      },
      deps.now,
    );
    return { endpoint: updated, secret };
  });
}

/** Queues a `ping` to this endpoint alone (enabled or not: it is a test). Returns the delivery id. */
export async function sendTestEvent(db: Db, actor: Actor, endpoint: WebhookEndpoint, now: Date): Promise<string> {
  return db.$transaction(async (tx) => {
    const [id] = await emitWebhookEvent(
      tx,
      {
        workspaceId: endpoint.workspaceId,
        environment: endpoint.environment,
        type: "ping",
        data: { endpointId: endpoint.id },
        endpointId: endpoint.id,
      },
      now,
    );
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: endpoint.workspaceId,
        action: "webhook_endpoint.test",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
      },
      now,
    );
    if (!id) throw new Error("the test event found no endpoint");
    return id;
  });
}
