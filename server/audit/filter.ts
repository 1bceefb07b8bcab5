import { z } from "zod";
import { ok, type Result } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { uuid, validate } from "../validation";
import { WORKSPACE_AUDIT_ACTIONS } from "./actions";

// The audit log's filters. Each narrows the rows that `seq` cursors page through,
// so a cursor from a filtered page stays valid on the next one.

export interface AuditFilterInput {
  action?: string | null;
  actorId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const schema = z
  .object({
    // A misspelt action would match nothing and look like a quiet log.
    action: z
      .enum(WORKSPACE_AUDIT_ACTIONS, {
        error: () => "must be an action a workspace's log records, e.g. member.add (the SDK's auditActions)",
      })
      .nullish(),
    actorId: uuid.nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
  })
  // An empty or backwards window is a mistake, not a question with no answer.
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "must be before to", path: ["from"] });

/** The rows of one workspace that match: `from` inclusive, `to` exclusive. */
export function auditFilterWhere(workspaceId: string, input: AuditFilterInput): Result<Prisma.AuditEventWhereInput> {
  const parsed = validate(schema, input);
  if (!parsed.ok) return parsed;
  const { action, actorId, from, to } = parsed.value;
  return ok({
    workspaceId,
    ...(action ? { action } : {}),
    ...(actorId ? { actorId } : {}),
    ...(from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) } } : {}),
  });
}
