import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import { mayManageRole } from "../auth/permissions";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Membership, Prisma, Role } from "../generated/prisma/client";
import { email, validate } from "../validation";

/** The caller, already admitted to the workspace with `members:write`. */
export interface MemberManager {
  actor: Actor;
  workspaceId: string;
  role: Role;
}

const roleSchema = z.enum(["OWNER", "ADMIN", "MODERATOR", "MEMBER"], {
  message: "must be OWNER, ADMIN, MODERATOR or MEMBER",
});
const addInput = z.object({ email, role: roleSchema });
const updateInput = z.object({ userId: z.string(), role: roleSchema });

const cannotGrant = (caller: Role, role: Role) =>
  fail(
    "insufficient_permissions",
    role === "OWNER"
      ? "Only an OWNER can make someone an OWNER or change an OWNER's membership."
      : `A ${caller} cannot grant or change the ${role} role.`,
  );

export async function addMember(db: Db, caller: MemberManager, input: unknown, now: Date): Promise<Result<Membership>> {
  const valid = validate(addInput, input);
  if (!valid.ok) return valid;
  const { role } = valid.value;
  if (!mayManageRole(caller.role, role)) return cannotGrant(caller.role, role);
  const user = await db.user.findUnique({ where: { email: valid.value.email }, select: { id: true } });
  if (!user) return fail("not_found", "No user has signed up with that email; ask them to sign up first.", "email");
  const existing = await db.membership.findUnique({
    where: { workspaceId_userId: { workspaceId: caller.workspaceId, userId: user.id } },
  });
  if (existing)
    return fail("validation_failed", `email: already a member (role ${existing.role}); use updateMemberRole`, "email");
  const membership = await db.$transaction(async (tx) => {
    const created = await tx.membership.create({ data: { workspaceId: caller.workspaceId, userId: user.id, role } });
    await recordAudit(
      tx,
      caller.actor,
      { workspaceId: caller.workspaceId, action: "member.add", targetType: "user", targetId: user.id, data: { role } },
      now,
    );
    return created;
  });
  return ok(membership);
}

type Tx = Prisma.TransactionClient;

/** Locks the workspace's OWNER rows, so two concurrent demotions cannot both pass the check. */
async function ownerCount(tx: Tx, workspaceId: string): Promise<number> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM memberships WHERE workspace_id = ${workspaceId}::uuid AND role = 'OWNER' FOR UPDATE`;
  return rows.length;
}

const LAST_OWNER = "A workspace must keep at least one OWNER: make someone else OWNER first.";

async function lockedTarget(tx: Tx, workspaceId: string, userId: string) {
  // Read inside the transaction after locking owners, so the role we check is the role we change.
  await ownerCount(tx, workspaceId);
  return tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
}

const notMember = () => fail("not_found", "That user is not a member of this workspace.", "userId");

export async function updateMemberRole(
  db: Db,
  caller: MemberManager,
  input: unknown,
  now: Date,
): Promise<Result<Membership>> {
  const valid = validate(updateInput, input);
  if (!valid.ok) return valid;
  const { userId, role } = valid.value;
  if (!z.uuid().safeParse(userId).success) return notMember();
  return db.$transaction(async (tx): Promise<Result<Membership>> => {
    const target = await lockedTarget(tx, caller.workspaceId, userId);
    if (!target) return notMember();
    if (!mayManageRole(caller.role, target.role)) return cannotGrant(caller.role, target.role);
    if (!mayManageRole(caller.role, role)) return cannotGrant(caller.role, role);
    if (target.role === role) return ok(target);
    if (target.role === "OWNER" && (await ownerCount(tx, caller.workspaceId)) <= 1) {
      return fail("validation_failed", `role: ${LAST_OWNER}`, "role");
    }
    const updated = await tx.membership.update({ where: { id: target.id }, data: { role } });
    await recordAudit(
      tx,
      caller.actor,
      {
        workspaceId: caller.workspaceId,
        action: "member.update_role",
        targetType: "user",
        targetId: userId,
        data: { from: target.role, to: role },
      },
      now,
    );
    return ok(updated);
  });
}

export async function removeMember(
  db: Db,
  caller: MemberManager,
  input: { userId: string },
  now: Date,
): Promise<Result<true>> {
  if (!z.uuid().safeParse(input.userId).success) return notMember();
  return db.$transaction(async (tx): Promise<Result<true>> => {
    const target = await lockedTarget(tx, caller.workspaceId, input.userId);
    if (!target) return notMember();
    if (!mayManageRole(caller.role, target.role)) return cannotGrant(caller.role, target.role);
    if (target.role === "OWNER" && (await ownerCount(tx, caller.workspaceId)) <= 1) {
      return fail("validation_failed", LAST_OWNER, "userId");
    }
    await tx.membership.delete({ where: { id: target.id } });
    await recordAudit(
      tx,
      caller.actor,
      {
        workspaceId: caller.workspaceId,
        action: "member.remove",
        targetType: "user",
        targetId: input.userId,
        data: { role: target.role },
      },
      now,
    );
    return ok(true as const);
  });
}
