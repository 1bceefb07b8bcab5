import { z } from "zod";
import type { AuditAction } from "../audit/actions";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Prisma, Workspace } from "../generated/prisma/client";
import { announce } from "../keys/invalidation";
import { validate } from "../validation";
import {
  type AudienceNode,
  type AudienceRow,
  type AudienceTree,
  audienceName,
  buildTree,
  MAX_AUDIENCES,
  MAX_DEPTH,
  treeOrder,
} from "./tree";

// Managing a workspace's audience tree and its requireAudienceToken setting. Each
// change takes the workspace's row lock (so two changes to one tree never
// interleave), writes its audit event in the same transaction and announces the
// workspace to every instance's cache (keys/invalidation.ts), since verification
// reads the tree from memory.

type Tx = Prisma.TransactionClient;

const ROW = { id: true, workspaceId: true, name: true, parentId: true, createdAt: true } as const;

export async function loadTree(db: Db | Tx, workspaceId: string): Promise<AudienceTree> {
  return buildTree(await db.audience.findMany({ where: { workspaceId }, select: ROW }));
}

export async function listAudiences(db: Db, workspaceId: string): Promise<AudienceNode[]> {
  return treeOrder(await loadTree(db, workspaceId));
}

/** One audience by id, whichever workspace holds it: the caller decides whether it may see it. */
export function findAudience(db: Db, id: string): Promise<AudienceRow | null> {
  return db.audience.findUnique({ where: { id }, select: ROW });
}

async function lockWorkspace(tx: Tx, workspaceId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM workspaces WHERE id = ${workspaceId}::uuid FOR UPDATE`;
}

async function changed(tx: Tx, actor: Actor, workspaceId: string, event: AuditChange, now: Date): Promise<void> {
  await recordAudit(tx, actor, { workspaceId, ...event }, now);
  await announce(tx, { kind: "workspace", id: workspaceId });
}

interface AuditChange {
  action: AuditAction;
  targetType: string;
  targetId: string;
  data: Prisma.InputJsonObject;
}

const createSchema = z.object({ name: audienceName, parent: audienceName.nullish() });

export async function createAudience(
  db: Db,
  actor: Actor,
  workspaceId: string,
  input: unknown,
  now: Date,
): Promise<Result<AudienceNode>> {
  const valid = validate(createSchema, input);
  if (!valid.ok) return valid;
  const { name, parent: parentName } = valid.value;
  return db.$transaction(async (tx): Promise<Result<AudienceNode>> => {
    await lockWorkspace(tx, workspaceId);
    const tree = await loadTree(tx, workspaceId);
    if (tree.size >= MAX_AUDIENCES) {
      return fail("validation_failed", `name: a workspace has at most ${MAX_AUDIENCES} audiences`, "name");
    }
    if (tree.has(name))
      return fail("validation_failed", "name: this workspace already has an audience so named", "name");
    const parent = parentName == null ? null : tree.get(parentName);
    if (parent === undefined) return fail("not_found", "No such audience.", "parent");
    if (parent && parent.path.length >= MAX_DEPTH) {
      return fail("validation_failed", `parent: a tree is at most ${MAX_DEPTH} levels deep`, "parent");
    }
    const row = await tx.audience.create({
      data: { workspaceId, name, parentId: parent?.id ?? null, createdAt: now },
      select: ROW,
    });
    const event = { name, parent: parent?.name ?? null };
    await changed(tx, actor, workspaceId, { action: "audience.create", ...target(row.id), data: event }, now);
    return ok({ ...row, parent: parent?.name ?? null, path: [name, ...(parent?.path ?? [])] });
  });
}

const target = (id: string) => ({ targetType: "audience", targetId: id });

/** Tokens name audiences by name: after a rename, tokens naming the old name are refused. */
export async function renameAudience(
  db: Db,
  actor: Actor,
  audience: AudienceRow,
  input: unknown,
  now: Date,
): Promise<Result<AudienceNode>> {
  const valid = validate(z.object({ name: audienceName }), input);
  if (!valid.ok) return valid;
  const { name } = valid.value;
  return db.$transaction(async (tx): Promise<Result<AudienceNode>> => {
    await lockWorkspace(tx, audience.workspaceId);
    const before = (await loadTree(tx, audience.workspaceId)).get(audience.name);
    if (before?.id !== audience.id) return fail("not_found", "No such audience.", "id");
    if (name === audience.name) return ok(before);
    const taken = await tx.audience.count({ where: { workspaceId: audience.workspaceId, name } });
    if (taken) return fail("validation_failed", "name: this workspace already has an audience so named", "name");
    await tx.audience.update({ where: { id: audience.id }, data: { name } });
    const data = { from: audience.name, to: name };
    await changed(tx, actor, audience.workspaceId, { action: "audience.rename", ...target(audience.id), data }, now);
    return ok({ ...before, name, path: [name, ...before.path.slice(1)] });
  });
}

/** Only a leaf goes: deleting a node would orphan its children, or silently take them along. */
export async function deleteAudience(
  db: Db,
  actor: Actor,
  audience: AudienceRow,
  now: Date,
): Promise<Result<AudienceNode>> {
  return db.$transaction(async (tx): Promise<Result<AudienceNode>> => {
    await lockWorkspace(tx, audience.workspaceId);
    const node = (await loadTree(tx, audience.workspaceId)).get(audience.name);
    if (node?.id !== audience.id) return fail("not_found", "No such audience.", "id");
    const children = await tx.audience.count({ where: { parentId: audience.id } });
    if (children) {
      return fail("validation_failed", `id: this audience has ${children} child audience(s); delete them first`, "id");
    }
    await tx.audience.delete({ where: { id: audience.id } });
    const data = { name: audience.name, parent: node.parent };
    await changed(tx, actor, audience.workspaceId, { action: "audience.delete", ...target(audience.id), data }, now);
    return ok(node);
  });
}

export async function setRequireAudienceToken(
  db: Db,
  actor: Actor,
  workspaceId: string,
  required: boolean,
  now: Date,
): Promise<Workspace> {
  return db.$transaction(async (tx) => {
    const workspace = await tx.workspace.update({
      where: { id: workspaceId },
      data: { requireAudienceToken: required },
    });
    const event = {
      action: "workspace.require_audience_token" as const,
      targetType: "workspace",
      targetId: workspaceId,
    };
    await changed(tx, actor, workspaceId, { ...event, data: { required } }, now);
    return workspace;
  });
}
