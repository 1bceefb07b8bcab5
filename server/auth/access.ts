import type { Context } from "../context";
import { fail, ok, type Result } from "../errors";
import type { Role, User, Workspace } from "../generated/prisma/client";
import { isUuid } from "../loaders";
import { type Permission, roleAllows } from "./permissions";

// The one place that decides whether the caller may act on a workspace. Shield
// rules ask it before a resolver runs; resolvers ask it again (cheaply: loaders
// cache per request) to get the caller's role for the domain's finer rules.

export interface WorkspaceCaller {
  user: User;
  workspace: Workspace;
  /** Effective role; platform admins act as OWNER everywhere. */
  role: Role;
}

export function signedInUser(ctx: Pick<Context, "principal">): Result<User> {
  const p = ctx.principal;
  if (p.kind === "user") return ok(p.user);
  if (p.kind === "invalid") return { ok: false, error: p.failure };
  return fail("authentication_required", "Sign in first: send `Authorization: Bearer <session token>`.");
}

export type WorkspaceRef = { id?: string | null; slug?: string | null };

async function findWorkspace(ctx: Context, ref: WorkspaceRef): Promise<Workspace | null> {
  if (ref.id) return isUuid(ref.id) ? ctx.loaders.workspace.load(ref.id) : null;
  if (ref.slug) return ctx.loaders.workspaceBySlug.load(ref.slug);
  return null;
}

export async function requireWorkspace(
  ctx: Context,
  ref: WorkspaceRef,
  permission: Permission,
): Promise<Result<WorkspaceCaller>> {
  const user = signedInUser(ctx);
  if (!user.ok) return user;
  const workspace = await findWorkspace(ctx, ref);
  // A workspace the caller does not belong to looks exactly like one that does not exist.
  const hidden = fail("not_found", "No such workspace.");
  if (!workspace) return hidden;
  let role: Role | null = null;
  if (user.value.isPlatformAdmin) role = "OWNER";
  else role = (await ctx.loaders.membership.load(`${user.value.id}:${workspace.id}`))?.role ?? null;
  if (!role) return hidden;
  if (!roleAllows(role, permission)) {
    return fail("insufficient_permissions", `Your role (${role}) does not allow ${permission} in this workspace.`);
  }
  return ok({ user: user.value, workspace, role });
}
