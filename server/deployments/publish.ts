import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import { type Deployment, type DeploymentKind, Prisma } from "../generated/prisma/client";
import { reasonSchema } from "../keys/input";
import { announce } from "../keys/invalidation";
import { validate } from "../validation";
import { emitWebhookEvent } from "../webhooks/events";
import { diffCounts, type KeySource, sourceRows } from "./diff";

// Publishing a deployment: the snapshot rows, the version and the audit event in
// one transaction, which also tells every instance (keys/invalidation.ts) that
// the workspace's verification now answers from the new version. The workspace's
// row is locked first, so two deploys of one workspace take turns and each takes
// the next version; the unique (workspace, version) index is the backstop.

type Tx = Prisma.TransactionClient;

interface LockedWorkspace {
  keysEnabled: boolean;
  requireDeploy: boolean;
}

/** Locks the workspace's row for the rest of the transaction and reads its switches. */
export async function lockWorkspace(tx: Tx, workspaceId: string): Promise<LockedWorkspace | null> {
  const [row] = await tx.$queryRaw<LockedWorkspace[]>`
    SELECT keys_enabled AS "keysEnabled", require_deploy AS "requireDeploy"
    FROM workspaces WHERE id = ${workspaceId}::uuid FOR UPDATE`;
  return row ?? null;
}

export const latestDeployment = (tx: Tx, workspaceId: string) =>
  tx.deployment.findFirst({ where: { workspaceId }, orderBy: { version: "desc" } });

interface Publication {
  kind: DeploymentKind;
  note: string | null;
  source: KeySource;
  sourceVersion: number | null;
  keysEnabled: boolean;
}

const COPIED = Prisma.raw(
  `"hash", "scopes", "allowed_origins", "allowed_ips", "expires_at", "grace_until", "rate_limit_limit", "rate_limit_window_seconds", "metadata"`,
);

/** Inside a transaction that holds the workspace's lock (lockWorkspace). */
export async function publishLocked(
  tx: Tx,
  actor: Actor,
  workspaceId: string,
  publication: Publication,
  now: Date,
): Promise<Deployment> {
  const latest = await latestDeployment(tx, workspaceId);
  const counts = await diffCounts(tx, publication.source, latest?.id ?? null);
  const deployment = await tx.deployment.create({
    data: {
      workspaceId,
      version: (latest?.version ?? 0) + 1,
      kind: publication.kind,
      note: publication.note,
      sourceVersion: publication.sourceVersion,
      keysEnabled: publication.keysEnabled,
      ...counts,
      createdById: actor.type === "user" ? actor.id : null,
      createdAt: now,
    },
  });
  await tx.$executeRaw`
    INSERT INTO deployment_keys ("deployment_id", "key_id", ${COPIED})
    SELECT ${deployment.id}::uuid, s.key_id, ${COPIED} FROM (${sourceRows(publication.source)}) AS s`;
  await recordAudit(
    tx,
    actor,
    {
      workspaceId,
      action: publication.kind === "ROLLBACK" ? "deployment.rollback" : "deployment.publish",
      targetType: "deployment",
      targetId: deployment.id,
      data: {
        version: deployment.version,
        kind: deployment.kind,
        note: deployment.note,
        sourceVersion: deployment.sourceVersion,
        keysEnabled: deployment.keysEnabled,
        ...counts,
      },
    },
    now,
  );
  const published = { deploymentId: deployment.id, version: deployment.version, kind: deployment.kind };
  await emitWebhookEvent(tx, { workspaceId, environment: null, type: "deployment.published", data: published }, now);
  await announce(tx, { kind: "workspace", id: workspaceId });
  return deployment;
}

const noteSchema = reasonSchema.nullish();
const versionSchema = z.number().int("must be a whole number").min(1, "must be at least 1");
const hidden = fail("not_found", "No such workspace.");

function checkedNote(note: unknown): Result<string | null> {
  const valid = validate(noteSchema, note);
  return valid.ok ? ok(valid.value ?? null) : fail("validation_failed", `note: ${valid.error.message}`, "note");
}

/** Publishes the workspace's current key state as its next version. */
export async function deployKeys(
  db: Db,
  actor: Actor,
  workspaceId: string,
  input: { note?: string | null },
  now: Date,
): Promise<Result<Deployment>> {
  const note = checkedNote(input.note);
  if (!note.ok) return note;
  return db.$transaction(async (tx): Promise<Result<Deployment>> => {
    const workspace = await lockWorkspace(tx, workspaceId);
    if (!workspace) return hidden;
    const source: KeySource = { kind: "live", workspaceId };
    const publication = { kind: "DEPLOY" as const, note: note.value, source, sourceVersion: null };
    return ok(await publishLocked(tx, actor, workspaceId, { ...publication, keysEnabled: workspace.keysEnabled }, now));
  });
}

/** Republishes an older version's snapshot (keys and switch) as the next version. */
export async function rollbackKeys(
  db: Db,
  actor: Actor,
  workspaceId: string,
  input: { version: number; note?: string | null },
  now: Date,
): Promise<Result<Deployment>> {
  const version = validate(versionSchema, input.version);
  if (!version.ok) return fail("validation_failed", `version: ${version.error.message}`, "version");
  const note = checkedNote(input.note);
  if (!note.ok) return note;
  return db.$transaction(async (tx): Promise<Result<Deployment>> => {
    if (!(await lockWorkspace(tx, workspaceId))) return hidden;
    const target = await tx.deployment.findUnique({
      where: { workspaceId_version: { workspaceId, version: version.value } },
    });
    if (!target) return fail("not_found", `This workspace has no deployment version ${version.value}.`, "version");
    const published = await publishLocked(
      tx,
      actor,
      workspaceId,
      {
        kind: "ROLLBACK",
        note: note.value,
        source: { kind: "deployment", deploymentId: target.id },
        sourceVersion: target.version,
        keysEnabled: target.keysEnabled,
      },
      now,
    );
    return ok(published);
  });
}
