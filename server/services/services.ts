import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import { type Db, isUniqueViolation } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Service } from "../generated/prisma/client";
import { announce } from "../keys/invalidation";
import { SERVICE_SLUG } from "../keys/scopes";
import { isUuid } from "../loaders";
import { displayName, validate } from "../validation";
import { emitWebhookEvent } from "../webhooks/events";

// A workspace's services: the product areas its scopes name (`service.forms.read`)
// and its keys may be bound to. A service is never renamed or deleted, since scopes
// and keys refer to it; it is switched off instead (setServiceActive), which stops
// every key bound to it and every verification requiring one of its scopes.

/** Per workspace: the list stays one page, and a workspace's switch state one small cache entry. */
export const MAX_SERVICES = 100;

const createInput = z.object({
  slug: z
    .string()
    .trim()
    .max(40, "must be at most 40 characters")
    .regex(SERVICE_SLUG, "must be 1 to 40 lowercase letters, digits and inner hyphens (it becomes service.<slug>.…)"),
  name: displayName(100),
});

export async function listServices(db: Db, workspaceId: string): Promise<Service[]> {
  return db.service.findMany({ where: { workspaceId }, orderBy: { slug: "asc" } });
}

/** A service by id; the caller decides whether its workspace is visible (not_found otherwise). */
export async function findService(db: Db, id: string): Promise<Service | null> {
  return isUuid(id) ? db.service.findUnique({ where: { id } }) : null;
}

export async function createService(
  db: Db,
  actor: Actor,
  workspaceId: string,
  input: unknown,
  now: Date,
): Promise<Result<Service>> {
  const valid = validate(createInput, input);
  if (!valid.ok) return valid;
  const { slug, name } = valid.value;
  const taken = fail("validation_failed", `slug: this workspace already has a service "${slug}"`, "slug");
  try {
    return await db.$transaction(async (tx): Promise<Result<Service>> => {
      // Serialises creations per workspace, so the count below cannot be raced past.
      await tx.$queryRaw`SELECT id FROM workspaces WHERE id = ${workspaceId}::uuid FOR UPDATE`;
      if ((await tx.service.count({ where: { workspaceId } })) >= MAX_SERVICES) {
        return fail("validation_failed", `slug: a workspace has at most ${MAX_SERVICES} services`, "slug");
      }
      if (await tx.service.findUnique({ where: { workspaceId_slug: { workspaceId, slug } }, select: { id: true } })) {
        return taken;
      }
      const service = await tx.service.create({ data: { workspaceId, slug, name } });
      await recordAudit(
        tx,
        actor,
        { workspaceId, action: "service.create", targetType: "service", targetId: service.id, data: { slug, name } },
        now,
      );
      return ok(service);
    });
  } catch (error) {
    if (isUniqueViolation(error)) return taken;
    throw error;
  }
}

/**
 * Switches a service on or off. Off, every key bound to it and every verification
 * requiring one of its scopes answers service_inactive; the change reaches every
 * instance the way a revocation does (the workspace's cache entry is announced).
 */
export async function setServiceActive(
  db: Db,
  actor: Actor,
  service: Service,
  active: boolean,
  now: Date,
): Promise<Service> {
  return db.$transaction(async (tx) => {
    const updated = await tx.service.update({ where: { id: service.id }, data: { active } });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: service.workspaceId,
        action: active ? "service.activate" : "service.deactivate",
        targetType: "service",
        targetId: service.id,
        data: { slug: service.slug, wasActive: service.active },
      },
      now,
    );
    const toggled = { serviceId: service.id, slug: service.slug, active };
    const event = {
      workspaceId: service.workspaceId,
      environment: null,
      type: "service.toggled",
      data: toggled,
    } as const;
    await emitWebhookEvent(tx, event, now);
    await announce(tx, { kind: "workspace", id: service.workspaceId });
    return updated;
  });
}
