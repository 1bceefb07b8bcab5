import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Workspace } from "../generated/prisma/client";
import { announce } from "../keys/invalidation";
import { diffCounts, type KeyChange, type KeySource, listChanges } from "./diff";
import { latestDeployment, lockWorkspace, publishLocked } from "./publish";

// The workspace setting requireDeploy, and what the next deployment would publish.
//
// Turning it on publishes the current state as a deployment in the same
// transaction, so nothing a key does changes at that moment; from then on changes
// wait for the next deployment. Turning it off makes verification read the live
// state again at once: every pending change takes effect (the audit event counts them).

export const ENABLE_NOTE = "requireDeploy turned on";

export async function setRequireDeploy(
  db: Db,
  actor: Actor,
  workspaceId: string,
  enabled: boolean,
  now: Date,
): Promise<Result<Workspace>> {
  return db.$transaction(async (tx): Promise<Result<Workspace>> => {
    const locked = await lockWorkspace(tx, workspaceId);
    if (!locked) return fail("not_found", "No such workspace.");
    // Asking for what is already so changes nothing, so it records nothing.
    if (locked.requireDeploy === enabled)
      return ok(await tx.workspace.findUniqueOrThrow({ where: { id: workspaceId } }));
    const live: KeySource = { kind: "live", workspaceId };
    let data: Record<string, number | boolean>;
    if (enabled) {
      const deployment = await publishLocked(
        tx,
        actor,
        workspaceId,
        { kind: "ENABLE", note: ENABLE_NOTE, source: live, sourceVersion: null, keysEnabled: locked.keysEnabled },
        now,
      );
      data = { version: deployment.version };
    } else {
      const latest = await latestDeployment(tx, workspaceId);
      const { added, removed, changed } = await diffCounts(tx, live, latest?.id ?? null);
      const keysEnabledChanged = latest ? latest.keysEnabled !== locked.keysEnabled : false;
      // What stopped waiting for a deployment and took effect when the setting went off.
      data = { added, removed, changed, keysEnabledChanged };
    }
    const workspace = await tx.workspace.update({ where: { id: workspaceId }, data: { requireDeploy: enabled } });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId,
        action: enabled ? "workspace.require_deploy_enable" : "workspace.require_deploy_disable",
        targetType: "workspace",
        targetId: workspaceId,
        data,
      },
      now,
    );
    await announce(tx, { kind: "workspace", id: workspaceId });
    return ok(workspace);
  });
}

export interface PendingDeployment {
  /** The latest deployment, which the next one would be compared with (null: none yet). */
  baseVersion: number | null;
  added: number;
  removed: number;
  changed: number;
  /** The master switch the next deployment would publish. */
  keysEnabled: boolean;
  keysEnabledChanged: boolean;
  changes: KeyChange[];
}

export const MAX_LISTED_CHANGES = 100;

/** What deployKeys would publish now, compared with the latest deployment. */
export async function pendingDeployment(db: Db, workspace: Workspace): Promise<PendingDeployment> {
  const latest = await latestDeployment(db, workspace.id);
  const live: KeySource = { kind: "live", workspaceId: workspace.id };
  const baseId = latest?.id ?? null;
  const { added, removed, changed } = await diffCounts(db, live, baseId);
  return {
    baseVersion: latest?.version ?? null,
    added,
    removed,
    changed,
    keysEnabled: workspace.keysEnabled,
    keysEnabledChanged: latest ? latest.keysEnabled !== workspace.keysEnabled : false,
    changes: await listChanges(db, live, baseId, MAX_LISTED_CHANGES),
  };
}
