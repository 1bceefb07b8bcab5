import { z } from "zod";
import { ok, type Result } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { uuid, validate } from "../validation";

// The audit log's filters. Each narrows the rows that `seq` cursors page through,
// so a cursor from a filtered page stays valid on the next one.

/** Longer than any action the server records (e.g. workspace.require_audience_token). */
export const ACTION_MAX = 64;

export interface AuditFilterInput {
  action?: string | null;
  actorId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const schema = z
  .object({
    action: z
      .string()
      .max(ACTION_MAX, `must be at most ${ACTION_MAX} characters`)
      .regex(/^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/, "must be an action name like member.add")
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
