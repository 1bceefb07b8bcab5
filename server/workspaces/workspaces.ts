import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import { type Db, isUniqueViolation } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Workspace } from "../generated/prisma/client";
import { displayName, slug, validate } from "../validation";

const createInput = z.object({ name: displayName(100), slug });

/** Any signed-in user may create a workspace; its creator becomes its OWNER. */
export async function createWorkspace(
  db: Db,
  actor: Actor & { id: string },
  input: unknown,
  now: Date,
): Promise<Result<Workspace>> {
  const valid = validate(createInput, input);
  if (!valid.ok) return valid;
  const taken = fail("validation_failed", `slug: "${valid.value.slug}" is already taken`, "slug");
  if (await db.workspace.findUnique({ where: { slug: valid.value.slug }, select: { id: true } })) return taken;
  try {
    const workspace = await db.$transaction(async (tx) => {
      const created = await tx.workspace.create({ data: { name: valid.value.name, slug: valid.value.slug } });
      await tx.membership.create({ data: { workspaceId: created.id, userId: actor.id, role: "OWNER" } });
      await recordAudit(
        tx,
        actor,
        {
          workspaceId: created.id,
          action: "workspace.create",
          targetType: "workspace",
          targetId: created.id,
          data: { slug: created.slug, name: created.name },
        },
        now,
      );
      return created;
    });
    return ok(workspace);
  } catch (error) {
    if (isUniqueViolation(error)) return taken;
    throw error;
  }
}
