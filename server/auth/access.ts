import type { Actor } from "../audit/log";
import type { Context } from "../context";
import { type Failure, fail, ok, type Result } from "../errors";
import type { ApiKey, Environment, PlatformKey, Role, Service, User, Workspace } from "../generated/prisma/client";
import type { WorkspaceState } from "../keys/cache";
import { effectiveScopes, holdsScope, isReadScope } from "../keys/scopes";
import { isUuid } from "../loaders";
import { holdsPlatformScope, PLATFORM_SCOPES } from "../platform/scopes";
import { findService } from "../services/services";
import { type Permission, permissionsOf, roleAllows } from "./permissions";

// The one place that decides whether the caller may act on a workspace. Shield
// rules ask it before a resolver runs; resolvers ask it again (cheaply: loaders
// cache per request) to get the caller for the domain's finer rules.

export interface WorkspaceCaller {
  workspace: Workspace;
  actor: Actor;
  /** The signed-in user; null when an API key or a platform key is calling. */
  user: User | null;
  /** The calling key; null when a user or a platform key is calling. */
  key: ApiKey | null;
  /** Role for role-based rules: platform admins act as OWNER; keys as ADMIN within their scopes; platform keys as MEMBER (they only read). */
  role: Role;
  /** Scopes the caller holds, so it can grant no more than these. */
  held: readonly string[];
  platformAdmin: boolean;
  /** A key sees only its own environment; users choose one explicitly. */
  environment: Environment | null;
}

/**
 * The refusal for a caller who is nobody: anonymous, or sent a credential that does not
 * work (they hear why). Null for anyone else. Rules that look an object up by id ask it
 * first, so such a caller gets the same answer for an id that exists and one that does not.
 */
export function nobody(ctx: Pick<Context, "principal">): { ok: false; error: Failure } | null {
  const p = ctx.principal;
  if (p.kind === "invalid") return { ok: false, error: p.failure };
  if (p.kind === "anonymous") {
    return fail("authentication_required", "Sign in first: send `Authorization: Bearer <session token or API key>`.");
  }
  return null;
}

/** The signed-in user. A publishable key is told it is read-only only when the operation `writes`. */
export function signedInUser(ctx: Pick<Context, "principal">, writes = true): Result<User> {
  const p = ctx.principal;
  if (p.kind === "user") return ok(p.user);
  const refused = nobody(ctx);
  if (refused) return refused;
  if (p.kind === "key") {
    return p.key.type === "PUBLISHABLE" && writes
      ? publishableWrite()
      : fail("insufficient_permissions", "This operation needs a signed-in user, not an API key.");
  }
  return fail("insufficient_permissions", "This operation needs a signed-in user, not a platform key.");
}

/** A signed-in platform admin: the only caller who manages platform keys. */
export function platformAdmin(ctx: Pick<Context, "principal">, writes: boolean): Result<User> {
  const user = signedInUser(ctx, writes);
  if (!user.ok) return user;
  return user.value.isPlatformAdmin
    ? user
    : fail("insufficient_permissions", "Only platform admins (npm run admin -- create-admin) manage platform keys.");
}

const lacksPlatformScope = (scope: string) => fail("insufficient_scope", `This platform key lacks the ${scope} scope.`);

/**
 * May this caller call verifyApiKey at all (a signed-in user, a secret key, or a
 * platform key with keys:verify)? Which keys it may verify is decided per key.
 */
export function verifierCaller(ctx: Pick<Context, "principal">): Result<true> {
  const p = ctx.principal;
  if (p.kind === "key") return p.key.type === "SECRET" ? ok(true) : publishableWrite();
  if (p.kind === "platform")
    return holdsPlatformScope(p.key, "keys:verify") ? ok(true) : lacksPlatformScope("keys:verify");
  const user = signedInUser(ctx);
  return user.ok ? ok(true) : user;
}

/** May this caller ask for `workspace(id | slug)` (a signed-in user, or a platform key with workspaces:read)? */
export function workspaceReader(ctx: Pick<Context, "principal">): Result<true> {
  const p = ctx.principal;
  if (p.kind === "platform") {
    return holdsPlatformScope(p.key, "workspaces:read") ? ok(true) : lacksPlatformScope("workspaces:read");
  }
  const user = signedInUser(ctx, false);
  return user.ok ? ok(true) : user;
}

/**
 * Which keys this caller may verify: a key with keys:verify, its own workspace and
 * environment; a key holding `*` (made by a platform admin), every workspace in its
 * environment; a platform key with keys:verify, every key of every workspace; a
 * user whose role has keys:verify there; a platform admin, all.
 * Keys it may not verify answer exactly like unknown ones (not_found).
 */
export function verifiableBy(ctx: Pick<Context, "principal" | "loaders">) {
  return async (key: ApiKey): Promise<boolean> => {
    const p = ctx.principal;
    if (p.kind === "key") {
      if (p.key.environment !== key.environment) return false;
      if (p.key.scopes.includes("*")) return true;
      return p.workspace.id === key.workspaceId && p.key.scopes.includes("keys:verify");
    }
    if (p.kind === "platform") return holdsPlatformScope(p.key, "keys:verify");
    if (p.kind !== "user") return false;
    if (p.user.isPlatformAdmin) return true;
    const membership = await ctx.loaders.membership.load(`${p.user.id}:${key.workspaceId}`);
    return membership !== null && roleAllows(membership.role, "keys:verify");
  };
}

export const publishableWrite = () =>
  fail("publishable_key_write", "Publishable keys are read-only: use a secret key (sk_…) from your server for this.");

export type WorkspaceRef = { id?: string | null; slug?: string | null };

async function findWorkspace(ctx: Context, ref: WorkspaceRef): Promise<Workspace | null> {
  if (ref.id) return isUuid(ref.id) ? ctx.loaders.workspace.load(ref.id) : null;
  if (ref.slug) return ctx.loaders.workspaceBySlug.load(ref.slug);
  return null;
}

async function keyCaller(
  ctx: Context,
  key: ApiKey,
  own: WorkspaceState,
  ref: WorkspaceRef,
  permission: Permission,
): Promise<Result<WorkspaceCaller>> {
  if (key.type === "PUBLISHABLE" && !isReadScope(permission)) return publishableWrite();
  // The key names its own workspace, so a different one is refused the same way
  // whether or not it exists.
  if ((ref.id && ref.id !== own.id) || (ref.slug && ref.slug !== own.slug) || (!ref.id && !ref.slug)) {
    return fail("workspace_access_denied", "This API key belongs to another workspace.");
  }
  const held = effectiveScopes(key);
  if (!holdsScope(held, permission)) {
    return fail("insufficient_scope", `This API key lacks the ${permission} scope.`);
  }
  const workspace = await ctx.loaders.workspace.load(own.id);
  if (!workspace) return fail("workspace_access_denied", "This API key's workspace no longer exists.");
  return ok({
    workspace,
    actor: { type: "api_key", id: key.id, ip: ctx.ip },
    user: null,
    key,
    role: "ADMIN",
    held,
    platformAdmin: false,
    environment: key.environment,
  });
}

/** A platform key reads any workspace (workspaces:read) and does nothing else in one. */
async function platformCaller(
  ctx: Context,
  key: PlatformKey,
  ref: WorkspaceRef,
  permission: Permission,
): Promise<Result<WorkspaceCaller>> {
  if (permission !== "workspace:read") {
    return fail("insufficient_scope", `Platform keys hold only ${PLATFORM_SCOPES.join(" and ")}, not ${permission}.`);
  }
  if (!holdsPlatformScope(key, "workspaces:read")) return lacksPlatformScope("workspaces:read");
  const workspace = await findWorkspace(ctx, ref);
  if (!workspace) return fail("not_found", "No such workspace.");
  return ok({
    workspace,
    actor: { type: "platform_key", id: key.id, ip: ctx.ip },
    user: null,
    key: null,
    role: "MEMBER",
    held: [],
    platformAdmin: false,
    environment: null,
  });
}

export async function requireWorkspace(
  ctx: Context,
  ref: WorkspaceRef,
  permission: Permission,
): Promise<Result<WorkspaceCaller>> {
  const p = ctx.principal;
  if (p.kind === "key") return keyCaller(ctx, p.key, p.workspace, ref, permission);
  if (p.kind === "platform") return platformCaller(ctx, p.key, ref, permission);
  const user = signedInUser(ctx);
  if (!user.ok) return user;
  const workspace = await findWorkspace(ctx, ref);
  // A workspace the caller does not belong to looks exactly like one that does not exist.
  const hidden = fail("not_found", "No such workspace.");
  if (!workspace) return hidden;
  const platformAdmin = user.value.isPlatformAdmin;
  const role = platformAdmin
    ? "OWNER"
    : ((await ctx.loaders.membership.load(`${user.value.id}:${workspace.id}`))?.role ?? null);
  if (!role) return hidden;
  if (!roleAllows(role, permission)) {
    return fail("insufficient_permissions", `Your role (${role}) does not allow ${permission} in this workspace.`);
  }
  return ok({
    workspace,
    actor: { type: "user", id: user.value.id, ip: ctx.ip },
    user: user.value,
    key: null,
    role,
    held: platformAdmin ? ["*"] : permissionsOf(role),
    platformAdmin,
    environment: null,
  });
}

/**
 * An API key by id, with the caller admitted to its workspace. Keys of other
 * workspaces or environments answer not_found, exactly like ids that do not exist.
 */
export async function requireApiKey(
  ctx: Context,
  id: string,
  permission: Permission,
): Promise<Result<{ caller: WorkspaceCaller; apiKey: ApiKey }>> {
  const p = ctx.principal;
  if (p.kind === "key" && p.key.type === "PUBLISHABLE" && !isReadScope(permission)) return publishableWrite();
  // Before any lookup: a platform key learns nothing about which key ids exist.
  if (p.kind === "platform") {
    return fail("insufficient_scope", `Platform keys hold only ${PLATFORM_SCOPES.join(" and ")}, not ${permission}.`);
  }
  const refused = nobody(ctx);
  if (refused) return refused;
  const missing = fail("not_found", "No such API key.", "id");
  const apiKey = isUuid(id) ? await ctx.loaders.apiKey.load(id) : null;
  if (!apiKey) return missing;
  if (p.kind === "key" && (apiKey.workspaceId !== p.workspace.id || apiKey.environment !== p.key.environment)) {
    return missing;
  }
  const caller = await requireWorkspace(ctx, { id: apiKey.workspaceId }, permission);
  if (!caller.ok) return caller.error.code === "not_found" ? missing : caller;
  return ok({ caller: caller.value, apiKey });
}

/** A service by id, with the caller admitted to its workspace; other workspaces' services answer not_found. */
export async function requireService(
  ctx: Context,
  id: string,
  permission: Permission,
): Promise<Result<{ caller: WorkspaceCaller; service: Service }>> {
  const p = ctx.principal;
  const refused = nobody(ctx);
  if (refused) return refused;
  const missing = fail("not_found", "No such service.", "id");
  const service = await findService(ctx.db, id);
  if (!service || (p.kind === "key" && service.workspaceId !== p.workspace.id)) return missing;
  const caller = await requireWorkspace(ctx, { id: service.workspaceId }, permission);
  if (!caller.ok) return caller.error.code === "not_found" ? missing : caller;
  return ok({ caller: caller.value, service });
}
