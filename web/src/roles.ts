import type { Role } from "@keyward/sdk";

// What each role may do in the dashboard, mirroring the server's role table (the
// README's). The server decides; this only hides controls a role could not use.

const KEY_MANAGERS: Role[] = ["MODERATOR", "ADMIN", "OWNER"];
const ADMINS: Role[] = ["ADMIN", "OWNER"];

export const canManageKeys = (role: Role | null | undefined) => !!role && KEY_MANAGERS.includes(role);
export const canManageMembers = (role: Role | null | undefined) => !!role && ADMINS.includes(role);

// The server's mayManageRole: only an OWNER touches OWNER (grants it, or changes or
// removes an OWNER); otherwise nobody hands out or changes a role above their own.
const ROLE_ORDER: Role[] = ["MEMBER", "MODERATOR", "ADMIN", "OWNER"];

/** Whether a member manager of role `actor` may give `target`, or change or remove someone holding it. */
export function mayManageRole(actor: Role | null | undefined, target: Role): boolean {
  if (!actor || !canManageMembers(actor)) return false;
  if (target === "OWNER") return actor === "OWNER";
  return ROLE_ORDER.indexOf(target) <= ROLE_ORDER.indexOf(actor);
}

/** The roles `actor` may give, highest first. */
export const grantableRoles = (actor: Role | null | undefined): Role[] =>
  [...ROLE_ORDER].reverse().filter((role) => mayManageRole(actor, role));

export const ROLE_SUMMARY: Record<Role, string> = {
  OWNER: "Owner: everything, including ownership",
  ADMIN: "Admin: everything but ownership",
  MODERATOR: "Moderator: manages keys",
  MEMBER: "Member: sees the workspace, nothing about keys",
};

const MODERATOR_SCOPES = ["keys:read", "keys:write", "keys:verify", "members:read", "workspace:read"];
const ADMIN_SCOPES = [
  ...MODERATOR_SCOPES,
  "members:write",
  "workspace:write",
  "audit:read",
  "webhooks:read",
  "webhooks:write",
];

/** Scopes a member of this role may put on a key (one cannot grant what one does not hold). */
export function grantableScopes(role: Role | null | undefined, type: "SECRET" | "PUBLISHABLE"): string[] {
  if (!canManageKeys(role)) return [];
  if (type === "PUBLISHABLE") return ["keys:read"];
  return role === "MODERATOR" ? MODERATOR_SCOPES : ADMIN_SCOPES;
}
