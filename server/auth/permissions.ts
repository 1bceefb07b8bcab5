import type { Role } from "../generated/prisma/enums";

// The role table of DESIGN.md as data. Permissions are named like scopes so that
// a key's scopes and a member's role are checked the same way.

export const WORKSPACE_SCOPES = [
  "keys:read",
  "keys:write",
  "keys:verify",
  "members:read",
  "members:write",
  "workspace:read",
  "workspace:write",
  "audit:read",
  "webhooks:read",
  "webhooks:write",
] as const;

export type Permission = (typeof WORKSPACE_SCOPES)[number] | "workspace:delete" | "ownership:transfer";

const admin: Permission[] = [...WORKSPACE_SCOPES];

const roles: Record<Role, ReadonlySet<Permission>> = {
  OWNER: new Set<Permission>([...admin, "workspace:delete", "ownership:transfer"]),
  ADMIN: new Set<Permission>(admin),
  MODERATOR: new Set<Permission>(["keys:read", "keys:write", "keys:verify", "members:read", "workspace:read"]),
  MEMBER: new Set<Permission>(["workspace:read"]),
};

export const ROLE_ORDER: Role[] = ["MEMBER", "MODERATOR", "ADMIN", "OWNER"];

export function roleAllows(role: Role, permission: Permission): boolean {
  return roles[role].has(permission);
}

export function permissionsOf(role: Role): Permission[] {
  return [...roles[role]];
}

/**
 * Whether `actor` may give `target` to someone, or change someone who has `target`.
 * Only an OWNER touches OWNER (ownership transfer); otherwise nobody hands out a
 * role above their own.
 */
export function mayManageRole(actor: Role, target: Role): boolean {
  if (target === "OWNER") return roleAllows(actor, "ownership:transfer");
  return ROLE_ORDER.indexOf(target) <= ROLE_ORDER.indexOf(actor);
}
