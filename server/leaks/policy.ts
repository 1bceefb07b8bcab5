import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import type { LeakPolicy, Workspace } from "../generated/prisma/client";

// What a workspace does with a key reported as leaked (server/leaks/report.ts):
// REVOKE (the default) stops it at once; NOTIFY records the report and leaves
// the key working, for teams that rotate by hand. The setting is read fresh from
// the database on each report, so it needs no cache invalidation.

export async function setLeakPolicy(
  db: Db,
  actor: Actor,
  workspaceId: string,
  policy: LeakPolicy,
  now: Date,
): Promise<Workspace> {
  return db.$transaction(async (tx) => {
    const before = await tx.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { leakPolicy: true } });
    const workspace = await tx.workspace.update({ where: { id: workspaceId }, data: { leakPolicy: policy } });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId,
        action: "workspace.leak_policy",
        targetType: "workspace",
        targetId: workspaceId,
        data: { from: before.leakPolicy, to: policy },
      },
      now,
    );
    return workspace;
  });
}
