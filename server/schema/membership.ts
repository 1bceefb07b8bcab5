import { requireWorkspace } from "../auth/access";
import { builder } from "../builder";
import type { Context } from "../context";
import { apiError } from "../errors";
import { addMember, type MemberManager, removeMember, updateMemberRole } from "../workspaces/members";
import { MembershipRef, UserRef, WorkspaceRef } from "./refs";
import { unwrap } from "./result";
import { RoleEnum } from "./role";

MembershipRef.implement({
  description: "A user's role in a workspace.",
  fields: (t) => ({
    id: t.exposeID("id"),
    role: t.field({ type: RoleEnum, resolve: (m) => m.role }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    user: t.field({
      type: UserRef,
      resolve: async (m, _args, ctx) => {
        const user = await ctx.loaders.user.load(m.userId);
        if (!user) throw new Error(`membership ${m.id} points at a missing user`);
        return user;
      },
    }),
    workspace: t.field({
      type: WorkspaceRef,
      resolve: async (m, _args, ctx) => {
        const workspace = await ctx.loaders.workspace.load(m.workspaceId);
        if (!workspace) throw new Error(`membership ${m.id} points at a missing workspace`);
        return workspace;
      },
    }),
  }),
});

const AddMemberInput = builder.inputType("AddMemberInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    email: t.string({ required: true, description: "The email of a user who has signed up." }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const UpdateMemberRoleInput = builder.inputType("UpdateMemberRoleInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    userId: t.id({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const RemoveMemberInput = builder.inputType("RemoveMemberInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    userId: t.id({ required: true }),
  }),
});

/** The caller as a member manager of the workspace; refused unless they hold members:write. */
async function manager(ctx: Context, workspaceId: string): Promise<MemberManager> {
  const access = await requireWorkspace(ctx, { id: workspaceId }, "members:write");
  if (!access.ok) throw apiError(access.error);
  return { actor: access.value.actor, workspaceId: access.value.workspace.id, role: access.value.role };
}

builder.mutationFields((t) => ({
  addMember: t.field({
    type: MembershipRef,
    description: "Add a signed-up user to a workspace. OWNER and ADMIN only; only an OWNER grants OWNER.",
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const result = unwrap(await addMember(ctx.db, await manager(ctx, String(input.workspaceId)), input, ctx.now));
      ctx.loaders.membership.clearAll();
      return result;
    },
  }),
  updateMemberRole: t.field({
    type: MembershipRef,
    description: "Change a member's role. The last OWNER cannot be demoted.",
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = await manager(ctx, String(input.workspaceId));
      const result = unwrap(
        await updateMemberRole(ctx.db, caller, { userId: String(input.userId), role: input.role }, ctx.now),
      );
      ctx.loaders.membership.clearAll();
      return result;
    },
  }),
  removeMember: t.boolean({
    description: "Remove a member from a workspace. The last OWNER cannot be removed.",
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = await manager(ctx, String(input.workspaceId));
      const result = unwrap(await removeMember(ctx.db, caller, { userId: String(input.userId) }, ctx.now));
      ctx.loaders.membership.clearAll();
      return result;
    },
  }),
}));
